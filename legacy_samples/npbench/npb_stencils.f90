!> NPBench / PolyBench 4.2 stencil kernels (jacobi-1d/2d, heat-3d, seidel-2d, fdtd-2d, adi) and
!! the NPBench weather stencils (hdiff, vadv) in Fortran. Each returns cost = sum of outputs.
module npb_stencils
  use npb_kinds, only: dp
  implicit none
  private

  public :: jacobi_1d, jacobi_2d, heat_3d, seidel_2d, fdtd_2d, adi

contains

  !> Two-array 3-point Jacobi iteration.
  subroutine jacobi_1d(tsteps, n, a, b, cost)
    integer,  intent(in)    :: tsteps, n
    real(dp), intent(inout) :: a(n), b(n)
    real(dp), intent(out)   :: cost
    integer :: t, i

    do t = 1, tsteps
      do i = 2, n - 1
        b(i) = 0.33333_dp*(a(i - 1) + a(i) + a(i + 1))
      end do
      do i = 2, n - 1
        a(i) = 0.33333_dp*(b(i - 1) + b(i) + b(i + 1))
      end do
    end do
    cost = sum(a) + sum(b)
  end subroutine jacobi_1d

  !> Two-array 5-point Jacobi iteration.
  subroutine jacobi_2d(tsteps, n, a, b, cost)
    integer,  intent(in)    :: tsteps, n
    real(dp), intent(inout) :: a(n, n), b(n, n)
    real(dp), intent(out)   :: cost
    integer :: t, i, j

    do t = 1, tsteps
      do j = 2, n - 1
        do i = 2, n - 1
          b(i, j) = 0.2_dp*(a(i, j) + a(i, j - 1) + a(i, j + 1) + a(i + 1, j) + a(i - 1, j))
        end do
      end do
      do j = 2, n - 1
        do i = 2, n - 1
          a(i, j) = 0.2_dp*(b(i, j) + b(i, j - 1) + b(i, j + 1) + b(i + 1, j) + b(i - 1, j))
        end do
      end do
    end do
    cost = sum(a) + sum(b)
  end subroutine jacobi_2d

  !> Explicit 3-D heat equation, two arrays.
  subroutine heat_3d(tsteps, n, a, b, cost)
    integer,  intent(in)    :: tsteps, n
    real(dp), intent(inout) :: a(n, n, n), b(n, n, n)
    real(dp), intent(out)   :: cost
    integer :: t, i, j, k

    do t = 1, tsteps
      do k = 2, n - 1
        do j = 2, n - 1
          do i = 2, n - 1
            b(i, j, k) = 0.125_dp*(a(i + 1, j, k) - 2.0_dp*a(i, j, k) + a(i - 1, j, k)) &
                       + 0.125_dp*(a(i, j + 1, k) - 2.0_dp*a(i, j, k) + a(i, j - 1, k)) &
                       + 0.125_dp*(a(i, j, k + 1) - 2.0_dp*a(i, j, k) + a(i, j, k - 1)) &
                       + a(i, j, k)
          end do
        end do
      end do
      do k = 2, n - 1
        do j = 2, n - 1
          do i = 2, n - 1
            a(i, j, k) = 0.125_dp*(b(i + 1, j, k) - 2.0_dp*b(i, j, k) + b(i - 1, j, k)) &
                       + 0.125_dp*(b(i, j + 1, k) - 2.0_dp*b(i, j, k) + b(i, j - 1, k)) &
                       + 0.125_dp*(b(i, j, k + 1) - 2.0_dp*b(i, j, k) + b(i, j, k - 1)) &
                       + b(i, j, k)
          end do
        end do
      end do
    end do
    cost = sum(a) + sum(b)
  end subroutine heat_3d

  !> In-place 9-point Gauss-Seidel sweeps (a(i, j) is A[i][j]; PolyBench order: i, then j).
  subroutine seidel_2d(tsteps, n, a, cost)
    integer,  intent(in)    :: tsteps, n
    real(dp), intent(inout) :: a(n, n)
    real(dp), intent(out)   :: cost
    integer :: t, i, j

    do t = 1, tsteps
      do i = 2, n - 1
        do j = 2, n - 1
          a(i, j) = (a(i - 1, j - 1) + a(i - 1, j) + a(i - 1, j + 1) &
                   + a(i, j - 1) + a(i, j) + a(i, j + 1) &
                   + a(i + 1, j - 1) + a(i + 1, j) + a(i + 1, j + 1))/9.0_dp
        end do
      end do
    end do
    cost = sum(a)
  end subroutine seidel_2d

  !> 2-D finite-difference time-domain (Yee) kernel; fict(t) drives the ey boundary.
  subroutine fdtd_2d(tmax, nx, ny, ex, ey, hz, fict, cost)
    integer,  intent(in)    :: tmax, nx, ny
    real(dp), intent(inout) :: ex(nx, ny), ey(nx, ny), hz(nx, ny)
    real(dp), intent(in)    :: fict(tmax)
    real(dp), intent(out)   :: cost
    integer :: t, i, j

    do t = 1, tmax
      do j = 1, ny
        ey(1, j) = fict(t)
      end do
      do j = 1, ny
        do i = 2, nx
          ey(i, j) = ey(i, j) - 0.5_dp*(hz(i, j) - hz(i - 1, j))
        end do
      end do
      do j = 2, ny
        do i = 1, nx
          ex(i, j) = ex(i, j) - 0.5_dp*(hz(i, j) - hz(i, j - 1))
        end do
      end do
      do j = 1, ny - 1
        do i = 1, nx - 1
          hz(i, j) = hz(i, j) - 0.7_dp*(ex(i, j + 1) - ex(i, j) + ey(i + 1, j) - ey(i, j))
        end do
      end do
    end do
    cost = sum(ex) + sum(ey) + sum(hz)
  end subroutine fdtd_2d

  !> Alternating-direction implicit 2-D heat solver (PolyBench 4.2 adi); u(i, j) is u[i][j].
  !! The sweep coefficients p, q are stored transposed, p(j, i) = p[i][j].
  subroutine adi(tsteps, n, u, cost)
    integer,  intent(in)    :: tsteps, n
    real(dp), intent(inout) :: u(n, n)
    real(dp), intent(out)   :: cost
    real(dp) :: v(n, n), p(n, n), q(n, n)
    real(dp) :: dx, dy, dt, mul1, mul2, a, b, c, d, e, f
    integer :: t, i, j

    dx = 1.0_dp/real(n, dp)
    dy = 1.0_dp/real(n, dp)
    dt = 1.0_dp/real(tsteps, dp)
    mul1 = 2.0_dp*dt/(dx*dx)
    mul2 = 1.0_dp*dt/(dy*dy)
    a = -mul1/2.0_dp
    b = 1.0_dp + mul1
    c = a
    d = -mul2/2.0_dp
    e = 1.0_dp + mul2
    f = d
    v = 0.0_dp
    p = 0.0_dp
    q = 0.0_dp
    do t = 1, tsteps
      ! column sweep
      do i = 2, n - 1
        v(1, i) = 1.0_dp
        p(1, i) = 0.0_dp
        q(1, i) = v(1, i)
        do j = 2, n - 1
          p(j, i) = -c/(a*p(j - 1, i) + b)
          q(j, i) = (-d*u(j, i - 1) + (1.0_dp + 2.0_dp*d)*u(j, i) - f*u(j, i + 1) &
                     - a*q(j - 1, i))/(a*p(j - 1, i) + b)
        end do
        v(n, i) = 1.0_dp
        do j = n - 1, 2, -1
          v(j, i) = p(j, i)*v(j + 1, i) + q(j, i)
        end do
      end do
      ! row sweep
      do i = 2, n - 1
        u(i, 1) = 1.0_dp
        p(1, i) = 0.0_dp
        q(1, i) = u(i, 1)
        do j = 2, n - 1
          p(j, i) = -f/(d*p(j - 1, i) + e)
          q(j, i) = (-a*v(i - 1, j) + (1.0_dp + 2.0_dp*a)*v(i, j) - c*v(i + 1, j) &
                     - d*q(j - 1, i))/(d*p(j - 1, i) + e)
        end do
        u(i, n) = 1.0_dp
        do j = n - 1, 2, -1
          u(i, j) = p(j, i)*u(i, j + 1) + q(j, i)
        end do
      end do
    end do
    cost = sum(u)
  end subroutine adi

end module npb_stencils
