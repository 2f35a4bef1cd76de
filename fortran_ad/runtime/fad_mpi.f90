!> fortran-ad MPI run-time (issue #13): adjoints and tangents of MPI communication, AMPI style,
!> on top of the real MPI library. Buffers are double precision (MPI_DOUBLE_PRECISION or
!> MPI_REAL8); counts, peers, tags and communicators are the user's.
!>
!> Adjoint rules (x is a buffer, xb its adjoint):
!>   send x to p          ->  receive t from p, xb += t
!>   recv x from p        ->  send xb to p, xb = 0
!>   sendrecv             ->  both of the above, in one MPI_Sendrecv
!>   isend/irecv + wait   ->  the adjoint of the wait posts the reverse communication
!>                            (irecv of a temporary / isend of xb), the adjoint of the
!>                            isend/irecv completes it (xb += t / xb = 0)
!>   bcast x from root    ->  reduce-sum of xb to root; xb = 0 on the other ranks
!>   reduce SUM to root   ->  sb += bcast(rb from root); rb = 0 on root
!>   allreduce SUM        ->  sb += allreduce-sum(rb); rb = 0
!>   MAX / MIN            ->  as SUM, but only the winning rank of each element receives the
!>                            adjoint (ties: the lowest rank, the MPI_MAXLOC/MINLOC rule); the
!>                            winners are recorded in the forward sweep.
!> Tangent rules: the same communication of the tangents; MAX/MIN pass the winner's tangent.
module fad_mpi
  use mpi
  use, intrinsic :: iso_c_binding, only: c_ptr, c_loc, c_f_pointer, c_null_ptr
  implicit none
  private
  public :: fad_mpi_send_b, fad_mpi_recv_b, fad_mpi_sendrecv_b
  public :: fad_mpi_isend, fad_mpi_irecv, fad_mpi_wait, fad_mpi_waitall
  public :: fad_mpi_isend_b, fad_mpi_irecv_b, fad_mpi_wait_b
  public :: fad_mpi_isend_d, fad_mpi_irecv_d, fad_mpi_wait_d, fad_mpi_waitall_d
  public :: fad_mpi_bcast_b, fad_mpi_reduce_b, fad_mpi_allreduce_b
  public :: fad_mpi_reduce, fad_mpi_allreduce, fad_mpi_reduce_d, fad_mpi_allreduce_d

  integer, parameter :: dp = kind(1.0d0)
  integer, parameter :: k_isend = 1, k_irecv = 2

  !> One non-blocking communication, from its forward posting to its adjoint completion.
  type :: slot_t
    integer :: kind = 0, count = 0, peer = 0, tag = 0, comm = 0, datatype = 0
    integer :: req = MPI_REQUEST_NULL   ! forward request (primal)
    integer :: dreq = MPI_REQUEST_NULL  ! tangent request (forward mode)
    integer :: rreq = MPI_REQUEST_NULL  ! reverse request (backward sweep)
    type(c_ptr) :: adj = c_null_ptr     ! irecv: the adjoint buffer, sent back by the wait's adjoint
    real(dp), allocatable :: tmp(:)     ! isend: the adjoint received back
  end type slot_t

  type(slot_t), allocatable, save :: slots(:)
  integer, allocatable, save :: free(:), posted(:), posts(:), waits(:), winners(:)
  integer, save :: nfree = 0, nposted = 0, nposts = 0, nwaits = 0, nwinners = 0

contains

  ! ------------------------------------------------------------------ small stacks
  subroutine ipush(stack, n, v)
    integer, allocatable, intent(inout) :: stack(:)
    integer, intent(inout) :: n
    integer, intent(in) :: v
    integer, allocatable :: grown(:)
    if (.not. allocated(stack)) allocate(stack(64))
    if (n == size(stack)) then
      allocate(grown(2*n))
      grown(1:n) = stack(1:n)
      call move_alloc(grown, stack)
    end if
    n = n + 1
    stack(n) = v
  end subroutine ipush

  integer function ipop(stack, n, what) result(v)
    integer, allocatable, intent(inout) :: stack(:)
    integer, intent(inout) :: n
    character(*), intent(in) :: what
    if (n <= 0) error stop "fad_mpi: adjoint out of step with the forward sweep (" // what // ")"
    v = stack(n)
    n = n - 1
  end function ipop

  integer function new_slot() result(id)
    type(slot_t), allocatable :: grown(:)
    integer :: k
    if (.not. allocated(slots)) allocate(slots(16))
    if (nfree > 0) then
      id = ipop(free, nfree, "slots")
      return
    end if
    do k = 1, size(slots)
      if (slots(k)%kind == 0) then
        id = k
        slots(k)%kind = -1
        return
      end if
    end do
    allocate(grown(2*size(slots)))
    grown(1:size(slots)) = slots
    id = size(slots) + 1
    call move_alloc(grown, slots)
    slots(id)%kind = -1
  end function new_slot

  subroutine release(id)
    integer, intent(in) :: id
    slots(id)%kind = 0
    slots(id)%adj = c_null_ptr
    if (allocated(slots(id)%tmp)) deallocate(slots(id)%tmp)
    call ipush(free, nfree, id)
  end subroutine release

  !> The slot of an in-flight forward request (0: a request fortran-ad did not post).
  integer function take_posted(req) result(id)
    integer, intent(in) :: req
    integer :: k
    id = 0
    if (req == MPI_REQUEST_NULL) return
    do k = nposted, 1, -1
      if (slots(posted(k))%req == req) then
        id = posted(k)
        posted(k:nposted - 1) = posted(k + 1:nposted)
        nposted = nposted - 1
        return
      end if
    end do
  end function take_posted

  subroutine check_type(datatype)
    integer, intent(in) :: datatype
    if (datatype /= MPI_DOUBLE_PRECISION .and. datatype /= MPI_REAL8) then
      error stop "fad_mpi: active buffers must be MPI_DOUBLE_PRECISION or MPI_REAL8"
    end if
  end subroutine check_type

  ! ------------------------------------------------------------------ blocking point-to-point
  subroutine fad_mpi_send_b(bufb, count, datatype, dest, tag, comm)
    real(dp), intent(inout) :: bufb(*)
    integer, intent(in) :: count, datatype, dest, tag, comm
    real(dp) :: t(count)
    integer :: ierr
    call check_type(datatype)
    call MPI_Recv(t, count, datatype, dest, tag, comm, MPI_STATUS_IGNORE, ierr)
    bufb(1:count) = bufb(1:count) + t
  end subroutine fad_mpi_send_b

  subroutine fad_mpi_recv_b(bufb, count, datatype, source, tag, comm)
    real(dp), intent(inout) :: bufb(*)
    integer, intent(in) :: count, datatype, source, tag, comm
    integer :: ierr
    call check_type(datatype)
    if (source == MPI_ANY_SOURCE) error stop "fad_mpi: MPI_ANY_SOURCE in active MPI_Recv"
    call MPI_Send(bufb, count, datatype, source, tag, comm, ierr)
    bufb(1:count) = 0.0_dp
  end subroutine fad_mpi_recv_b

  subroutine fad_mpi_sendrecv_b(sbufb, scount, stype, dest, stag, rbufb, rcount, rtype, &
                                source, rtag, comm)
    real(dp), intent(inout) :: sbufb(*), rbufb(*)
    integer, intent(in) :: scount, stype, dest, stag, rcount, rtype, source, rtag, comm
    real(dp) :: t(scount)
    integer :: ierr
    call check_type(stype)
    call check_type(rtype)
    if (source == MPI_ANY_SOURCE) error stop "fad_mpi: MPI_ANY_SOURCE in active MPI_Sendrecv"
    call MPI_Sendrecv(rbufb, rcount, rtype, source, rtag, t, scount, stype, dest, stag, comm, &
                      MPI_STATUS_IGNORE, ierr)
    rbufb(1:rcount) = 0.0_dp
    sbufb(1:scount) = sbufb(1:scount) + t
  end subroutine fad_mpi_sendrecv_b

  ! ------------------------------------------------------------------ non-blocking, reverse
  subroutine post(kind, count, datatype, peer, tag, comm, req, id)
    integer, intent(in) :: kind, count, datatype, peer, tag, comm, req
    integer, intent(out) :: id
    call check_type(datatype)
    id = new_slot()
    slots(id)%kind = kind
    slots(id)%count = count
    slots(id)%datatype = datatype
    slots(id)%peer = peer
    slots(id)%tag = tag
    slots(id)%comm = comm
    slots(id)%req = req
    call ipush(posted, nposted, id)
    call ipush(posts, nposts, id)
  end subroutine post

  !> Forward sweep of an active MPI_Isend.
  subroutine fad_mpi_isend(buf, count, datatype, dest, tag, comm, req, ierr)
    real(dp), intent(in) :: buf(*)
    integer, intent(in) :: count, datatype, dest, tag, comm
    integer, intent(out) :: req, ierr
    integer :: id
    call MPI_Isend(buf, count, datatype, dest, tag, comm, req, ierr)
    call post(k_isend, count, datatype, dest, tag, comm, req, id)
  end subroutine fad_mpi_isend

  !> Forward sweep of an active MPI_Irecv: remembers where the adjoint of the buffer lives.
  subroutine fad_mpi_irecv(buf, bufb, count, datatype, source, tag, comm, req, ierr)
    real(dp), intent(inout) :: buf(*)
    real(dp), intent(inout), target :: bufb(*)
    integer, intent(in) :: count, datatype, source, tag, comm
    integer, intent(out) :: req, ierr
    integer :: id
    if (source == MPI_ANY_SOURCE) error stop "fad_mpi: MPI_ANY_SOURCE in active MPI_Irecv"
    call MPI_Irecv(buf, count, datatype, source, tag, comm, req, ierr)
    call post(k_irecv, count, datatype, source, tag, comm, req, id)
    slots(id)%adj = c_loc(bufb(1))
  end subroutine fad_mpi_irecv

  !> Forward sweep of MPI_Wait: records which communication completed.
  subroutine fad_mpi_wait(req, status, ierr)
    integer, intent(inout) :: req
    integer, intent(inout) :: status(MPI_STATUS_SIZE)
    integer, intent(out) :: ierr
    integer :: id
    id = take_posted(req)
    call MPI_Wait(req, status, ierr)
    call ipush(waits, nwaits, id)
    call ipush(waits, nwaits, 1)
  end subroutine fad_mpi_wait

  subroutine fad_mpi_waitall(count, reqs, statuses, ierr)
    integer, intent(in) :: count
    integer, intent(inout) :: reqs(count)
    integer, intent(inout) :: statuses(MPI_STATUS_SIZE, *)
    integer, intent(out) :: ierr
    integer :: ids(count), k
    do k = 1, count
      ids(k) = take_posted(reqs(k))
    end do
    call MPI_Waitall(count, reqs, statuses, ierr)
    do k = 1, count
      call ipush(waits, nwaits, ids(k))
    end do
    call ipush(waits, nwaits, count)
  end subroutine fad_mpi_waitall

  !> Adjoint of MPI_Wait / MPI_Waitall: post the reverse communications.
  subroutine fad_mpi_wait_b()
    integer :: n, k, id, ierr
    real(dp), pointer :: adj(:)
    n = ipop(waits, nwaits, "wait")
    do k = 1, n
      id = ipop(waits, nwaits, "wait")
      if (id == 0) cycle
      associate (s => slots(id))
        if (s%kind == k_isend) then
          allocate(s%tmp(s%count))
          call MPI_Irecv(s%tmp, s%count, s%datatype, s%peer, s%tag, s%comm, s%rreq, ierr)
        else
          call c_f_pointer(s%adj, adj, [s%count])
          call MPI_Isend(adj, s%count, s%datatype, s%peer, s%tag, s%comm, s%rreq, ierr)
        end if
      end associate
    end do
  end subroutine fad_mpi_wait_b

  !> Adjoint of an MPI_Isend: complete the reverse receive, bufb += what came back.
  subroutine fad_mpi_isend_b(bufb, count)
    real(dp), intent(inout) :: bufb(*)
    integer, intent(in) :: count
    integer :: id, ierr
    id = ipop(posts, nposts, "isend")
    if (slots(id)%kind /= k_isend) error stop "fad_mpi: isend adjoint out of step"
    call MPI_Wait(slots(id)%rreq, MPI_STATUS_IGNORE, ierr)
    bufb(1:count) = bufb(1:count) + slots(id)%tmp(1:count)
    call release(id)
  end subroutine fad_mpi_isend_b

  !> Adjoint of an MPI_Irecv: complete the reverse send, then bufb = 0.
  subroutine fad_mpi_irecv_b(bufb, count)
    real(dp), intent(inout) :: bufb(*)
    integer, intent(in) :: count
    integer :: id, ierr
    id = ipop(posts, nposts, "irecv")
    if (slots(id)%kind /= k_irecv) error stop "fad_mpi: irecv adjoint out of step"
    call MPI_Wait(slots(id)%rreq, MPI_STATUS_IGNORE, ierr)
    bufb(1:count) = 0.0_dp
    call release(id)
  end subroutine fad_mpi_irecv_b

  ! ------------------------------------------------------------------ non-blocking, tangent
  subroutine fad_mpi_isend_d(buf, bufd, count, datatype, dest, tag, comm, req, ierr)
    real(dp), intent(in) :: buf(*), bufd(*)
    integer, intent(in) :: count, datatype, dest, tag, comm
    integer, intent(out) :: req, ierr
    integer :: id
    call MPI_Isend(buf, count, datatype, dest, tag, comm, req, ierr)
    call post(k_isend, count, datatype, dest, tag, comm, req, id)
    nposts = nposts - 1  ! tangent slots are freed by their wait
    call MPI_Isend(bufd, count, datatype, dest, tag, comm, slots(id)%dreq, ierr)
  end subroutine fad_mpi_isend_d

  subroutine fad_mpi_irecv_d(buf, bufd, count, datatype, source, tag, comm, req, ierr)
    real(dp), intent(inout) :: buf(*), bufd(*)
    integer, intent(in) :: count, datatype, source, tag, comm
    integer, intent(out) :: req, ierr
    integer :: id
    call MPI_Irecv(buf, count, datatype, source, tag, comm, req, ierr)
    call post(k_irecv, count, datatype, source, tag, comm, req, id)
    nposts = nposts - 1
    call MPI_Irecv(bufd, count, datatype, source, tag, comm, slots(id)%dreq, ierr)
  end subroutine fad_mpi_irecv_d

  subroutine fad_mpi_wait_d(req, status, ierr)
    integer, intent(inout) :: req
    integer, intent(inout) :: status(MPI_STATUS_SIZE)
    integer, intent(out) :: ierr
    integer :: id
    id = take_posted(req)
    call MPI_Wait(req, status, ierr)
    if (id /= 0) then
      call MPI_Wait(slots(id)%dreq, MPI_STATUS_IGNORE, ierr)
      call release(id)
    end if
  end subroutine fad_mpi_wait_d

  subroutine fad_mpi_waitall_d(count, reqs, statuses, ierr)
    integer, intent(in) :: count
    integer, intent(inout) :: reqs(count)
    integer, intent(inout) :: statuses(MPI_STATUS_SIZE, *)
    integer, intent(out) :: ierr
    integer :: ids(count), k
    do k = 1, count
      ids(k) = take_posted(reqs(k))
    end do
    call MPI_Waitall(count, reqs, statuses, ierr)
    do k = 1, count
      if (ids(k) /= 0) then
        call MPI_Wait(slots(ids(k))%dreq, MPI_STATUS_IGNORE, ierr)
        call release(ids(k))
      end if
    end do
  end subroutine fad_mpi_waitall_d

  ! ------------------------------------------------------------------ collectives
  subroutine fad_mpi_bcast_b(bufb, count, datatype, root, comm)
    real(dp), intent(inout) :: bufb(*)
    integer, intent(in) :: count, datatype, root, comm
    real(dp) :: t(count)
    integer :: rank, ierr
    call check_type(datatype)
    call MPI_Comm_rank(comm, rank, ierr)
    call MPI_Reduce(bufb, t, count, datatype, MPI_SUM, root, comm, ierr)
    if (rank == root) then
      bufb(1:count) = t
    else
      bufb(1:count) = 0.0_dp
    end if
  end subroutine fad_mpi_bcast_b

  !> The rank owning each element of a MAX/MIN reduction (lowest rank on ties).
  subroutine winner_ranks(sbuf, rbuf, count, op, comm, win)
    real(dp), intent(in) :: sbuf(*)
    real(dp), intent(out) :: rbuf(*)
    integer, intent(in) :: count, op, comm
    integer, intent(out) :: win(count)
    real(dp) :: pin(2, count), pout(2, count)
    integer :: rank, ierr, locop
    call MPI_Comm_rank(comm, rank, ierr)
    pin(1, :) = sbuf(1:count)
    pin(2, :) = real(rank, dp)
    locop = MPI_MAXLOC
    if (op == MPI_MIN) locop = MPI_MINLOC
    call MPI_Allreduce(pin, pout, count, MPI_2DOUBLE_PRECISION, locop, comm, ierr)
    rbuf(1:count) = pout(1, :)
    win = nint(pout(2, :))
  end subroutine winner_ranks

  subroutine check_op(op)
    integer, intent(in) :: op
    if (op /= MPI_SUM .and. op /= MPI_MAX .and. op /= MPI_MIN) then
      error stop "fad_mpi: active reductions support MPI_SUM, MPI_MAX and MPI_MIN"
    end if
  end subroutine check_op

  !> Forward sweep of an active MPI_Allreduce with MAX/MIN: records the winners.
  subroutine fad_mpi_allreduce(sbuf, rbuf, count, datatype, op, comm, ierr)
    real(dp), intent(in) :: sbuf(*)
    real(dp), intent(inout) :: rbuf(*)
    integer, intent(in) :: count, datatype, op, comm
    integer, intent(out) :: ierr
    integer :: win(count), k
    call check_type(datatype)
    call check_op(op)
    ierr = 0
    if (op == MPI_SUM) then
      call MPI_Allreduce(sbuf, rbuf, count, datatype, op, comm, ierr)
      return
    end if
    call winner_ranks(sbuf, rbuf, count, op, comm, win)
    do k = 1, count
      call ipush(winners, nwinners, win(k))
    end do
  end subroutine fad_mpi_allreduce

  subroutine fad_mpi_reduce(sbuf, rbuf, count, datatype, op, root, comm, ierr)
    real(dp), intent(in) :: sbuf(*)
    real(dp), intent(inout) :: rbuf(*)
    integer, intent(in) :: count, datatype, op, root, comm
    integer, intent(out) :: ierr
    real(dp) :: t(count)
    integer :: win(count), k, rank
    call check_type(datatype)
    call check_op(op)
    ierr = 0
    if (op == MPI_SUM) then
      call MPI_Reduce(sbuf, rbuf, count, datatype, op, root, comm, ierr)
      return
    end if
    call winner_ranks(sbuf, t, count, op, comm, win)
    call MPI_Comm_rank(comm, rank, ierr)
    if (rank == root) rbuf(1:count) = t
    do k = 1, count
      call ipush(winners, nwinners, win(k))
    end do
  end subroutine fad_mpi_reduce

  !> sb += (adjoint arriving at this rank), masked to the winners for MAX/MIN.
  subroutine scatter_adjoint(sbufb, t, count, op, comm)
    real(dp), intent(inout) :: sbufb(*)
    real(dp), intent(in) :: t(count)
    integer, intent(in) :: count, op, comm
    integer :: rank, ierr, k, win(count)
    if (op == MPI_SUM) then
      sbufb(1:count) = sbufb(1:count) + t
      return
    end if
    call MPI_Comm_rank(comm, rank, ierr)
    do k = count, 1, -1
      win(k) = ipop(winners, nwinners, "max/min")
    end do
    do k = 1, count
      if (win(k) == rank) sbufb(k) = sbufb(k) + t(k)
    end do
  end subroutine scatter_adjoint

  subroutine fad_mpi_allreduce_b(sbufb, rbufb, count, datatype, op, comm)
    real(dp), intent(inout) :: sbufb(*), rbufb(*)
    integer, intent(in) :: count, datatype, op, comm
    real(dp) :: t(count)
    integer :: ierr
    call check_type(datatype)
    call MPI_Allreduce(rbufb, t, count, datatype, MPI_SUM, comm, ierr)
    rbufb(1:count) = 0.0_dp
    call scatter_adjoint(sbufb, t, count, op, comm)
  end subroutine fad_mpi_allreduce_b

  subroutine fad_mpi_reduce_b(sbufb, rbufb, count, datatype, op, root, comm)
    real(dp), intent(inout) :: sbufb(*), rbufb(*)
    integer, intent(in) :: count, datatype, op, root, comm
    real(dp) :: t(count)
    integer :: rank, ierr
    call check_type(datatype)
    call MPI_Comm_rank(comm, rank, ierr)
    if (rank == root) then
      t = rbufb(1:count)
      rbufb(1:count) = 0.0_dp
    end if
    call MPI_Bcast(t, count, datatype, root, comm, ierr)
    call scatter_adjoint(sbufb, t, count, op, comm)
  end subroutine fad_mpi_reduce_b

  !> Tangent of MAX/MIN reductions: the winner's tangent (SUM: the sum of the tangents).
  subroutine fad_mpi_allreduce_d(sbuf, sbufd, rbuf, rbufd, count, datatype, op, comm, ierr)
    real(dp), intent(in) :: sbuf(*), sbufd(*)
    real(dp), intent(inout) :: rbuf(*), rbufd(*)
    integer, intent(in) :: count, datatype, op, comm
    integer, intent(out) :: ierr
    real(dp) :: t(count)
    integer :: win(count), rank
    call check_type(datatype)
    call check_op(op)
    if (op == MPI_SUM) then
      call MPI_Allreduce(sbuf, rbuf, count, datatype, op, comm, ierr)
      call MPI_Allreduce(sbufd, rbufd, count, datatype, op, comm, ierr)
      return
    end if
    call winner_ranks(sbuf, rbuf, count, op, comm, win)
    call MPI_Comm_rank(comm, rank, ierr)
    t = merge(sbufd(1:count), 0.0_dp, win == rank)
    call MPI_Allreduce(t, rbufd, count, datatype, MPI_SUM, comm, ierr)
  end subroutine fad_mpi_allreduce_d

  subroutine fad_mpi_reduce_d(sbuf, sbufd, rbuf, rbufd, count, datatype, op, root, comm, ierr)
    real(dp), intent(in) :: sbuf(*), sbufd(*)
    real(dp), intent(inout) :: rbuf(*), rbufd(*)
    integer, intent(in) :: count, datatype, op, root, comm
    integer, intent(out) :: ierr
    real(dp) :: t(count), v(count)
    integer :: win(count), rank
    call check_type(datatype)
    call check_op(op)
    if (op == MPI_SUM) then
      call MPI_Reduce(sbuf, rbuf, count, datatype, op, root, comm, ierr)
      call MPI_Reduce(sbufd, rbufd, count, datatype, op, root, comm, ierr)
      return
    end if
    call winner_ranks(sbuf, v, count, op, comm, win)
    call MPI_Comm_rank(comm, rank, ierr)
    t = merge(sbufd(1:count), 0.0_dp, win == rank)
    call MPI_Reduce(t, rbufd, count, datatype, MPI_SUM, root, comm, ierr)
    if (rank == root) rbuf(1:count) = v
  end subroutine fad_mpi_reduce_d
end module fad_mpi
