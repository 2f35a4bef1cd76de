module m4
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  interface scale
    module procedure scale_s, scale_v
  end interface scale
contains
  subroutine scale_s(a, f)
    real(dp), intent(inout) :: a
    real(dp), intent(in) :: f
    a = a*f + sin(a)
  end subroutine scale_s
  subroutine scale_v(a, f)
    real(dp), intent(inout) :: a(:)
    real(dp), intent(in) :: f
    a = a*f*cos(a)
  end subroutine scale_v
  real(dp) function energy(x, w)
    real(dp), intent(in) :: x(:)
    real(dp), intent(in), optional :: w
    energy = sum(x**2)
    if (present(w)) energy = energy*w
  end function energy
  subroutine head(n, x, f, cost)
    integer, intent(in) :: n
    real(dp), intent(inout) :: x(n)
    real(dp), intent(in) :: f
    real(dp), intent(out) :: cost
    real(dp), allocatable :: work(:)
    real(dp) :: s, q, h
    integer :: t
    character(len=20) :: label
    namelist /diag/ s
    h(q) = q**2 + 1.0_dp
    label = 'step'
    do t = 1, 3
      allocate(work(n))
      work = x
      call scale(work, f)
      call scale(work(1), f)
      associate (w1 => work(2:n), first => x(1))
        w1 = w1 + first
      end associate
      x = 0.5_dp*(x + work)
      deallocate(work)
    end do
    s = h(x(1))
    if (s < 0.0_dp) then
      write(*, *) trim(label), s
      write(*, nml=diag)
      print *, 'negative'
    end if
    cost = energy(x) + energy(x, w=f) + inner(s)
  contains
    real(dp) function inner(z)
      real(dp), intent(in) :: z
      inner = z*f
    end function inner
  end subroutine head
end module m4
