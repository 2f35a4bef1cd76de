!> Driver for the MPI diffusion sample: the same global problem (n cells) on any number of
!> ranks (n must be a multiple of it). Prints the cost, the gathered gradient d cost/d u0 and
!> d cost/d kappa from the adjoint, and central finite differences of a few gradient
!> components (rank 0 prints). Compile with -cpp; -DNONBLOCKING checks diff_run_nb (the
!> adjoint module is generated for one head at a time).
program mpi_diffusion_driver
  use mpi
#ifdef NONBLOCKING
  use mpi_diffusion, only: dp, primal => diff_run_nb
  use mpi_diffusion_b, only: adjoint => diff_run_nb_b
#else
  use mpi_diffusion, only: dp, primal => diff_run
  use mpi_diffusion_b, only: adjoint => diff_run_b
#endif
  implicit none
  integer, parameter :: n = 48, nt = 40
  real(dp), parameter :: dt = 0.05_dp, kappa0 = 0.4_dp
  real(dp) :: u0(0:n + 1), ub(0:n + 1), full(n), kappa, kappab, cost, costb, cp, cm, h, fd
  real(dp), allocatable :: u(:), ul(:)
  integer :: rank, nproc, nloc, i, ierr, probe(4), k

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nproc, ierr)
  if (mod(n, nproc) /= 0) error stop "n must be a multiple of the number of ranks"
  nloc = n/nproc
  do i = 1, n
    u0(i) = 0.5_dp + 0.4_dp*sin(6.283185307179586_dp*i/n) + 0.1_dp*cos(17.0_dp*i)
  end do
  allocate(u(0:nloc + 1), ul(0:nloc + 1))
  ul = 0.0_dp
  ul(1:nloc) = u0(rank*nloc + 1:rank*nloc + nloc)

  ! adjoint
  u = ul
  kappa = kappa0
  kappab = 0.0_dp
  ub = 0.0_dp
  costb = merge(1.0_dp, 0.0_dp, rank == 0)  ! the replicated cost is seeded once
  call adjoint(nloc, nt, dt, kappa, kappab, u, ub(0:nloc + 1), cost, costb)
  call MPI_Gather(ub(1:nloc), nloc, MPI_DOUBLE_PRECISION, full, nloc, MPI_DOUBLE_PRECISION, &
                  0, MPI_COMM_WORLD, ierr)
  if (rank == 0) then
    write(*, '(a, es25.17)') 'COST ', cost
    write(*, '(a, es25.17)') 'KAPPAB ', kappab
    do i = 1, n
      write(*, '(a, i0, es25.17)') 'GRAD ', i, full(i)
    end do
  end if

  ! central differences of a few components of the global gradient, and of kappa
  probe = [1, n/3, n/2 + 1, n]
  do k = 1, size(probe) + 1
    h = 1.0e-6_dp
    cp = run(k, h)
    cm = run(k, -h)
    fd = (cp - cm)/(2.0_dp*h)
    if (rank == 0 .and. k <= size(probe)) write(*, '(a, i0, es25.17)') 'FD ', probe(k), fd
    if (rank == 0 .and. k > size(probe)) write(*, '(a, es25.17)') 'FDKAPPA ', fd
  end do
  call MPI_Finalize(ierr)

contains

  !> The cost with global cell probe(k) (or kappa, k > size(probe)) moved by h.
  real(dp) function run(k, h) result(c)
    integer, intent(in) :: k
    real(dp), intent(in) :: h
    integer :: g
    u = ul
    kappa = kappa0
    if (k <= size(probe)) then
      g = probe(k) - rank*nloc
      if (g >= 1 .and. g <= nloc) u(g) = u(g) + h
    else
      kappa = kappa0 + h
    end if
    call primal(nloc, nt, dt, kappa, u, c)
  end function run
end program mpi_diffusion_driver
