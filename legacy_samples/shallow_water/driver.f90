!> Driver for the shallow-water sample: deterministic initial state, one run at
!! the check size, bit-exact printout.
program swm_driver
  use swm_params, only: dp
  use swm_core, only: swm_run
  implicit none

  integer, parameter :: nx = 16, ny = 12, nt = 10
  real(dp), parameter :: dt = 100.0_dp
  real(dp) :: h(nx, ny), u(nx, ny), v(nx, ny), cost
  integer  :: i, j

  do j = 1, ny
    do i = 1, nx
      h(i, j) = 10.0_dp + 0.1_dp*sin(0.3_dp*i)*cos(0.2_dp*j)
      u(i, j) = 0.3_dp*cos(0.4_dp*i + 0.1_dp*j)
      v(i, j) = -0.2_dp*sin(0.25_dp*i - 0.3_dp*j)
    end do
  end do

  call swm_run(nx, ny, nt, dt, h, u, v, cost)

  write(*, '(a,es24.16)') 'cost      = ', cost
  write(*, '(a,es24.16)') 'h(1,1)    = ', h(1, 1)
  write(*, '(a,es24.16)') 'h(nx,ny)  = ', h(nx, ny)
  write(*, '(a,es24.16)') 'u(5,7)    = ', u(5, 7)
  write(*, '(a,es24.16)') 'v(9,3)    = ', v(9, 3)
end program swm_driver
