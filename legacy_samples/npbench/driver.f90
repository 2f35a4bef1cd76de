!> Driver for the NPBench sample: every kernel at (about) its check size, inputs from a
!! closed formula (fill), printing the cost of each kernel.
program npbench_driver
  use npb_kinds, only: dp
  use npb_blas
  use npb_solvers
  use npb_stencils
  use npb_weather
  implicit none

  real(dp) :: cost
  real(dp) :: c45(4, 5), a43(4, 3), b35(3, 5), a45(4, 5), x5(5), y5(5), x4(4), y4(4)
  real(dp) :: a54(5, 4), a55(5, 5), b55(5, 5), u5(5), v5(5), w5(5), z5(5), s5(5), q5(5)
  real(dp) :: a325(3, 2, 4), c44(4, 4), c53(5, 3), a53(5, 3), t53(5, 3)
  real(dp) :: q64(6, 4), r44(4, 4), a64(6, 4), x8(8), y8(8), a66(6, 6), b66(6, 6)
  real(dp) :: a555(5, 5, 5), b555(5, 5, 5), hz(4, 5), fict(2)
  real(dp) :: fin(7, 7, 2), fco(3, 3, 2), fout(3, 3, 2)
  real(dp) :: us(2, 2, 4), ust(2, 2, 4), wc(3, 2, 4), up(2, 2, 4), ut(2, 2, 4)

  call fill(c45); call fill(a43); call fill(b35)
  call gemm(4, 5, 3, 1.5_dp, 1.2_dp, c45, a43, b35, cost)
  call show('gemm', cost)
  call fill(a45); call fill(x5)
  call atax(4, 5, a45, x5, y5, cost)
  call show('atax', cost)
  call fill(x4)
  a54 = transpose(a45)
  call bicg(4, 5, a54, x4, x5, y4, y5, cost)
  call show('bicg', cost)
  call fill(a55); call fill(u5); call fill(v5); call fill(w5); call fill(z5)
  call mvt(5, u5, v5, w5, z5, a55, cost)
  call show('mvt', cost)
  call fill(b55)
  call gesummv(5, 1.5_dp, 1.2_dp, a55, b55, x5, y5, cost)
  call show('gesummv', cost)
  call fill(s5); call fill(q5)
  call gemver(5, 1.5_dp, 1.2_dp, a55, u5, v5, w5, z5, s5, q5, x5, y5, cost)
  call show('gemver', cost)
  call fill(a55)
  call k2mm(4, 3, 5, 5, 1.5_dp, 1.2_dp, a45, b35, b35, c45, cost)
  call show('k2mm', cost)
  call k3mm(4, 5, 5, 5, 5, a45, a55, b55, a55, c45, cost)
  call show('k3mm', cost)
  call fill(a325); call fill(c44)
  call doitgen(3, 2, 4, a325, c44, cost)
  call show('doitgen', cost)
  call fill(a53); call fill(b55)
  call syrk(3, 5, 1.5_dp, 1.2_dp, b55, a53, cost)
  call show('syrk', cost)
  call fill(t53)
  call syr2k(3, 5, 1.5_dp, 1.2_dp, b55, a53, t53, cost)
  call show('syr2k', cost)
  call fill(c53)
  call symm(5, 3, 1.5_dp, 1.2_dp, c53, a55, t53, cost)
  call show('symm', cost)
  call trmm(5, 3, 1.5_dp, a55, c53, cost)
  call show('trmm', cost)
  call fill(a66); a66 = a66 + 6.0_dp
  call fill(x8)
  call trisolv(6, a66, x8(1:6), y8(1:6), cost)
  call show('trisolv', cost)
  x8 = 0.1_dp*x8
  call durbin(6, x8(1:6), y8(1:6), cost)
  call show('durbin', cost)
  call fill(b55)
  call cholesky(5, b55, a55, cost)
  call show('cholesky', cost)
  call lu(5, b55, a55, cost)
  call show('lu', cost)
  call ludcmp(5, b55, u5, a55, v5, w5, cost)
  call show('ludcmp', cost)
  call fill(a64)
  call gramschmidt(6, 4, a64, q64, r44, cost)
  call show('gramschmidt', cost)
  call fill(x8); call fill(y8)
  call jacobi_1d(3, 8, x8, y8, cost)
  call show('jacobi_1d', cost)
  call fill(a66); call fill(b66)
  call jacobi_2d(2, 6, a66, b66, cost)
  call show('jacobi_2d', cost)
  call fill(a555); call fill(b555)
  call heat_3d(2, 5, a555, b555, cost)
  call show('heat_3d', cost)
  call seidel_2d(2, 6, a66, cost)
  call show('seidel_2d', cost)
  call fill(a45); call fill(c45); call fill(hz); call fill(fict)
  call fdtd_2d(2, 4, 5, a45, c45, hz, fict, cost)
  call show('fdtd_2d', cost)
  call fill(a66)
  call adi(2, 6, a66, cost)
  call show('adi', cost)
  call fill(fin); call fill(fco)
  call hdiff(3, 3, 2, fin, fout, fco, cost)
  call show('hdiff', cost)
  call fill(us); call fill(ust); call fill(up); call fill(ut)
  call fill(wc); wc = 0.1_dp*wc
  call vadv(2, 2, 4, 0.15_dp, us, ust, wc, up, ut, cost)
  call show('vadv', cost)

contains

  !> x(k) = mod(7 k, 11)/11 - 0.3 over the elements in storage order.
  subroutine fill(x)
    real(dp), intent(out) :: x(..)
    integer :: k

    select rank (x)
    rank (1)
      x = [(real(mod(7*k, 11), dp)/11.0_dp - 0.3_dp, k = 1, size(x))]
    rank (2)
      x = reshape([(real(mod(7*k, 11), dp)/11.0_dp - 0.3_dp, k = 1, size(x))], shape(x))
    rank (3)
      x = reshape([(real(mod(7*k, 11), dp)/11.0_dp - 0.3_dp, k = 1, size(x))], shape(x))
    end select
  end subroutine fill

  subroutine show(name, value)
    character(len=*), intent(in) :: name
    real(dp), intent(in) :: value
    write(*, '(a12, a, es24.16)') name, ' cost = ', value
  end subroutine show

end program npbench_driver
