!> Pointers to active arrays and components, a passive pointer and NULLIFY.
module ptrm
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  type grid_t
    real(dp), allocatable :: h(:)
    real(dp), pointer :: view(:) => null()
  end type grid_t
contains
  subroutine ptr_run(n, x, y)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp), intent(out) :: y
    real(dp), target :: work(n)
    real(dp), pointer :: p(:), q(:)
    real(dp), pointer :: coef(:) => null()
    real(dp), target :: c(n)
    type(grid_t), target :: g
    integer :: i
    c = 0.5_dp
    coef => c
    work = x
    p => work
    nullify(q)
    allocate(g%h(n))
    g%h = 2.0_dp*x
    g%view => g%h
    do i = 1, n
      p(i) = sin(p(i))*coef(i) + g%view(i)**2
    end do
    y = 0.0_dp
    do i = 1, n
      y = y + work(i)**2
    end do
  end subroutine ptr_run
end module ptrm
