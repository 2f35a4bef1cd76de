!> 1-D domain-decomposed nonlinear diffusion (periodic ring of ranks): each rank owns nloc
!> cells plus one halo cell on each side. The halo is exchanged with MPI_Sendrecv
!> (diff_run) or MPI_Isend/Irecv/Waitall (diff_run_nb). The diffusivity is read on rank 0 and
!> broadcast; the cost is a global sum (MPI_Allreduce SUM) plus the global maximum
!> (MPI_Allreduce MAX) of the final state.
module mpi_diffusion
  use mpi
  implicit none
  integer, parameter :: dp = kind(1.0d0)
contains

  subroutine halo_sendrecv(nloc, u, comm)
    integer, intent(in) :: nloc, comm
    real(dp), intent(inout) :: u(0:nloc + 1)
    integer :: rank, nproc, left, right, ierr
    call MPI_Comm_rank(comm, rank, ierr)
    call MPI_Comm_size(comm, nproc, ierr)
    left = mod(rank - 1 + nproc, nproc)
    right = mod(rank + 1, nproc)
    ! my first cell goes to the left neighbour's right halo, and back
    call MPI_Sendrecv(u(1), 1, MPI_DOUBLE_PRECISION, left, 1, u(nloc + 1), 1, &
                      MPI_DOUBLE_PRECISION, right, 1, comm, MPI_STATUS_IGNORE, ierr)
    call MPI_Sendrecv(u(nloc), 1, MPI_DOUBLE_PRECISION, right, 2, u(0), 1, &
                      MPI_DOUBLE_PRECISION, left, 2, comm, MPI_STATUS_IGNORE, ierr)
  end subroutine halo_sendrecv

  subroutine halo_nonblocking(nloc, u, comm)
    integer, intent(in) :: nloc, comm
    real(dp), intent(inout) :: u(0:nloc + 1)
    integer :: rank, nproc, left, right, ierr
    integer :: req(4)
    call MPI_Comm_rank(comm, rank, ierr)
    call MPI_Comm_size(comm, nproc, ierr)
    left = mod(rank - 1 + nproc, nproc)
    right = mod(rank + 1, nproc)
    call MPI_Irecv(u(0), 1, MPI_DOUBLE_PRECISION, left, 3, comm, req(1), ierr)
    call MPI_Irecv(u(nloc + 1), 1, MPI_DOUBLE_PRECISION, right, 4, comm, req(2), ierr)
    call MPI_Isend(u(nloc), 1, MPI_DOUBLE_PRECISION, right, 3, comm, req(3), ierr)
    call MPI_Isend(u(1), 1, MPI_DOUBLE_PRECISION, left, 4, comm, req(4), ierr)
    call MPI_Waitall(4, req, MPI_STATUSES_IGNORE, ierr)
  end subroutine halo_nonblocking

  !> One explicit step of u_t = (k (1 + u^2) u_x)_x - r u^3 on the local cells.
  subroutine step(nloc, u, kappa, dt, unew)
    integer, intent(in) :: nloc
    real(dp), intent(in) :: u(0:nloc + 1), kappa, dt
    real(dp), intent(out) :: unew(nloc)
    real(dp) :: fl, fr
    integer :: i
    do i = 1, nloc
      fl = kappa*(1.0_dp + 0.25_dp*(u(i) + u(i - 1))**2)*(u(i) - u(i - 1))
      fr = kappa*(1.0_dp + 0.25_dp*(u(i + 1) + u(i))**2)*(u(i + 1) - u(i))
      unew(i) = u(i) + dt*(fr - fl) - dt*0.1_dp*u(i)**3
    end do
  end subroutine step

  !> Final cost J = sum(u**2) + max(u), both global.
  subroutine global_cost(nloc, u, cost, comm)
    integer, intent(in) :: nloc, comm
    real(dp), intent(in) :: u(0:nloc + 1)
    real(dp), intent(out) :: cost
    real(dp) :: local(1), total(1), lmax(1), gmax(1)
    integer :: i, ierr
    local(1) = 0.0_dp
    lmax(1) = u(1)
    do i = 1, nloc
      local(1) = local(1) + u(i)**2
      lmax(1) = max(lmax(1), u(i))
    end do
    call MPI_Allreduce(local, total, 1, MPI_DOUBLE_PRECISION, MPI_SUM, comm, ierr)
    call MPI_Allreduce(lmax, gmax, 1, MPI_DOUBLE_PRECISION, MPI_MAX, comm, ierr)
    cost = total(1) + gmax(1)
  end subroutine global_cost

  !> nt steps with MPI_Sendrecv halo exchange; kappa is taken from rank 0 (MPI_Bcast).
  subroutine diff_run(nloc, nt, dt, kappa, u, cost)
    integer, intent(in) :: nloc, nt
    real(dp), intent(in) :: dt
    real(dp), intent(inout) :: kappa
    real(dp), intent(inout) :: u(0:nloc + 1)
    real(dp), intent(out) :: cost
    real(dp) :: unew(nloc)
    integer :: t, ierr
    call MPI_Bcast(kappa, 1, MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD, ierr)
    do t = 1, nt
      call halo_sendrecv(nloc, u, MPI_COMM_WORLD)
      call step(nloc, u, kappa, dt, unew)
      u(1:nloc) = unew
    end do
    call global_cost(nloc, u, cost, MPI_COMM_WORLD)
  end subroutine diff_run

  !> The same model with non-blocking halo exchange (MPI_Isend/Irecv/Waitall).
  subroutine diff_run_nb(nloc, nt, dt, kappa, u, cost)
    integer, intent(in) :: nloc, nt
    real(dp), intent(in) :: dt
    real(dp), intent(inout) :: kappa
    real(dp), intent(inout) :: u(0:nloc + 1)
    real(dp), intent(out) :: cost
    real(dp) :: unew(nloc)
    integer :: t, ierr
    call MPI_Bcast(kappa, 1, MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD, ierr)
    do t = 1, nt
      call halo_nonblocking(nloc, u, MPI_COMM_WORLD)
      call step(nloc, u, kappa, dt, unew)
      u(1:nloc) = unew
    end do
    call global_cost(nloc, u, cost, MPI_COMM_WORLD)
  end subroutine diff_run_nb
end module mpi_diffusion
