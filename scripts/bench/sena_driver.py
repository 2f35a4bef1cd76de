"""Fortran drivers of the SENA benchmark (``scripts/bench/sena.py``), our own code.

Kernel drivers (one per kernel: ``interior``, ``boundaries``) run one step of the kernel on a
single patch covering the whole ``n x n`` domain (``xps = xms = 1``, ``xpe = xme = n``; the
interior ``2 .. n-1``; every side a domain boundary): the nonlinear kernel, fortran-ad's tangent
(``<kernel>_d``) and adjoint (``<kernel>_b``), and NOAA's hand-written ``update_<kernel>_tl`` /
``_adj``. NOAA's kernels are PRIVATE type-bound procedures of ``Shallow_Water_Model``: the
driver reaches them through gfortran's names for module procedures (``__<module>_MOD_<name>``)
with BIND(C) interfaces (explicit-shape arrays and scalars by reference, as gfortran passes
them). Each driver prints ``key value`` lines: tangents against central finite differences,
generated against hand-written tangents and adjoints, both dot-product tests, median times.

The time-loop driver runs fortran-ad's derivatives of ``sena_step`` (``SENA_STEP`` below, a
wrapper of ours that sets ``state%u, v, h`` from arrays, calls ``model%adv_nsteps`` and reads
them back), built on the derivative modules that copy SENA's (``shallow_water_*_d``/``_b``),
against finite differences and the dot-product identity, and with one step against NOAA's
``adv_nsteps`` of ``shallow_water_tl_type`` / ``shallow_water_adj_type`` on the primal modules.
"""

from __future__ import annotations

SENA_STEP = """\
module sena_step
  use shallow_water_kind, only: r8kind
  use shallow_water_state, only: shallow_water_state_type
  use shallow_water_model, only: shallow_water_model_type
  implicit none
contains
  ! the time loop on the state's u, v, h given as arrays over the patch
  subroutine step(model, state, u, v, h, xps, yps, nsteps)
    type(shallow_water_model_type), intent(in) :: model
    type(shallow_water_state_type), intent(inout) :: state
    real(r8kind), intent(inout) :: u(:, :), v(:, :), h(:, :)
    integer, intent(in) :: xps, yps, nsteps
    integer :: i, j
    do j = 1, size(u, 2)
      do i = 1, size(u, 1)
        state%u(xps + i - 1, yps + j - 1) = u(i, j)
        state%v(xps + i - 1, yps + j - 1) = v(i, j)
        state%h(xps + i - 1, yps + j - 1) = h(i, j)
      end do
    end do
    call model%adv_nsteps(state, nsteps)
    do j = 1, size(u, 2)
      do i = 1, size(u, 1)
        u(i, j) = state%u(xps + i - 1, yps + j - 1)
        v(i, j) = state%v(xps + i - 1, yps + j - 1)
        h(i, j) = state%h(xps + i - 1, yps + j - 1)
      end do
    end do
  end subroutine step
end module sena_step
"""

_INTS = {
    "interior": "xps, xpe, yps, ype, xts, xte, yts, yte, xms, xme, yms, yme",
    "boundaries": "xps, xpe, yps, ype, xms, xme, yms, yme, north, south, west, east",
}
_TAIL = {"interior": ", dx, dy, dt", "boundaries": ""}
_B = {"interior": ", b", "boundaries": ""}


def _iface(kernel: str, name: str, arrays: str) -> str:
    ints = _INTS[kernel] + (", nx, ny" if name.endswith("_adj") and kernel == "interior" else "")
    args = f"{ints}, {arrays}{_TAIL[kernel]}"
    reals = "dx, dy, dt" if kernel == "interior" else ""
    return "\n".join(
        [
            f"    subroutine {name}({args}) &",
            f'        bind(C, name="__shallow_water_model_MOD_{name}")',
            "      import :: c_int, c_double",
            f"      integer(c_int) :: {ints}",
            f"      real(c_double) :: {arrays.replace(', ', '(*), ')}(*)",
            *([f"      real(c_double) :: {reals}"] if reals else []),
            f"    end subroutine {name}",
        ]
    )


def kernel_driver(kernel: str) -> str:
    """The driver program of one kernel (arguments: n reps)."""
    k = f"update_{kernel}"
    b = _B[kernel]
    ints, tail = _INTS[kernel], _TAIL[kernel]
    nl_arrays = f"u, v, h{b}, u_new, v_new, h_new"
    hand_arrays = f"traj_u, traj_v, traj_h, u, v, h{b}, u_new, v_new, h_new"
    adj_ints = ints + (", nx, ny" if kernel == "interior" else "")
    ifaces = "\n".join(
        [
            _iface(kernel, f"{k}_model", nl_arrays),
            _iface(kernel, f"{k}_tl", hand_arrays),
            _iface(kernel, f"{k}_adj", hand_arrays),
        ]
    )
    return f"""\
program sena_{kernel}
  use iso_c_binding, only: c_int, c_double
  use shallow_water_model_d, only: {k}_model_d
  use shallow_water_model_b, only: {k}_model_b
  implicit none
  interface
{ifaces}
  end interface
  integer(c_int) :: n, nx, ny, xps, xpe, yps, ype, xts, xte, yts, yte, xms, xme, yms, yme
  integer(c_int) :: north, south, west, east
  integer :: reps, r, i, j
  character(len=32) :: arg
  real(c_double) :: dx, dy, dt, eps
  real(c_double), allocatable, dimension(:, :) :: u, v, h, b, du, dv, dh, u0, v0, h0, &
      u_new, v_new, h_new, tu, tv, th, gu, gv, gh, hu, hv, hh, su, sv, sh, &
      ub, vb, hb, xu, xv, xh, pu, pv, ph, mu, mv, mh
  real(c_double) :: t(5), times(5, 51)
  call get_command_argument(1, arg); read(arg, *) n
  call get_command_argument(2, arg); read(arg, *) reps
  reps = min(reps, 51)
  nx = n; ny = n; xps = 1; xpe = n; yps = 1; ype = n; xms = 1; xme = n; yms = 1; yme = n
  xts = 2; xte = n - 1; yts = 2; yte = n - 1
  north = -1; south = -1; west = -1; east = -1
  dx = 1.0d3; dy = dx; dt = 0.8d0  ! as SENA's tests: 1 km, 0.8 s (stable)
  allocate(u(n, n), v(n, n), h(n, n), b(n, n), du(n, n), dv(n, n), dh(n, n))
  allocate(u0, v0, h0, u_new, v_new, h_new, tu, tv, th, gu, gv, gh, hu, hv, hh, su, sv, sh, &
      ub, vb, hb, xu, xv, xh, pu, pv, ph, mu, mv, mh, mold=u)
  do j = 1, n
    do i = 1, n
      h(i, j) = 5000.0d0 + 30.0d0*exp(-((i - n/2.0d0)**2 + (j - n/2.0d0)**2)/(n/8.0d0)**2)
      u(i, j) = 2.0d0*sin(0.05d0*i + 0.03d0*j)
      v(i, j) = 1.5d0*cos(0.04d0*i - 0.02d0*j)
      du(i, j) = sin(0.3d0*i + 0.7d0*j)
      dv(i, j) = cos(0.5d0*i - 0.2d0*j)
      dh(i, j) = sin(0.11d0*i*j + 0.4d0)
      su(i, j) = cos(0.13d0*i + 0.29d0*j)
      sv(i, j) = sin(0.17d0*i - 0.31d0*j)
      sh(i, j) = cos(0.07d0*i*j + 0.9d0)
    end do
  end do
  b = 0.0d0
  ! finite differences (central; the kernels are at most quadratic)
  eps = 1.0d-3
  u0 = u + eps*du; v0 = v + eps*dv; h0 = h + eps*dh
  call zero3(pu, pv, ph)
  call {k}_model({ints}, u0, v0, h0{b}, pu, pv, ph{tail})
  u0 = u - eps*du; v0 = v - eps*dv; h0 = h - eps*dh
  call zero3(mu, mv, mh)
  call {k}_model({ints}, u0, v0, h0{b}, mu, mv, mh{tail})
  pu = (pu - mu)/(2*eps); pv = (pv - mv)/(2*eps); ph = (ph - mh)/(2*eps)
  ! generated and hand-written tangents
  call zero3(u_new, v_new, h_new); call zero3(gu, gv, gh)
  call {k}_model_d({ints}, u, du, v, dv, h, dh{b}, u_new, gu, v_new, gv, h_new, gh{tail})
  call zero3(hu, hv, hh)
  call {k}_tl({ints}, u, v, h, du, dv, dh{b}, hu, hv, hh{tail})
  print '(a, es12.4)', 'tl_gen_vs_fd ', rel(gu, gv, gh, pu, pv, ph)
  print '(a, es12.4)', 'tl_hand_vs_fd ', rel(hu, hv, hh, pu, pv, ph)
  print '(a, es12.4)', 'tl_gen_vs_hand ', rel(gu, gv, gh, hu, hv, hh)
  ! generated and hand-written adjoints of the seeds su, sv, sh
  call zero3(ub, vb, hb); tu = su; tv = sv; th = sh
  call zero3(u_new, v_new, h_new)
  call {k}_model_b({ints}, u, ub, v, vb, h, hb{b}, u_new, tu, v_new, tv, h_new, th{tail})
  call zero3(xu, xv, xh); tu = su; tv = sv; th = sh
  call {k}_adj({adj_ints}, u, v, h, xu, xv, xh{b}, tu, tv, th{tail})
  print '(a, es12.4)', 'adj_gen_vs_hand ', rel(ub, vb, hb, xu, xv, xh)
  print '(a, es12.4)', 'dot_gen ', dotrel(gu, gv, gh, su, sv, sh, du, dv, dh, ub, vb, hb)
  print '(a, es12.4)', 'dot_hand ', dotrel(hu, hv, hh, su, sv, sh, du, dv, dh, xu, xv, xh)
  ! times: nonlinear, generated tangent, hand tangent, generated adjoint, hand adjoint
  do r = 1, reps
    t(1) = now()
    call {k}_model({ints}, u, v, h{b}, u_new, v_new, h_new{tail})
    t(2) = now()
    call {k}_model_d({ints}, u, du, v, dv, h, dh{b}, u_new, gu, v_new, gv, h_new, gh{tail})
    t(3) = now()
    call {k}_tl({ints}, u, v, h, du, dv, dh{b}, hu, hv, hh{tail})
    t(4) = now()
    tu = su; tv = sv; th = sh
    t(5) = now()
    call {k}_model_b({ints}, u, ub, v, vb, h, hb{b}, u_new, tu, v_new, tv, h_new, th{tail})
    times(4, r) = now() - t(5)
    tu = su; tv = sv; th = sh
    t(5) = now()
    call {k}_adj({adj_ints}, u, v, h, xu, xv, xh{b}, tu, tv, th{tail})
    times(5, r) = now() - t(5)
    times(1:3, r) = t(2:4) - t(1:3)
  end do
  print '(a, 5es12.4)', 'times ', (median(times(i, 1:reps)), i = 1, 5)
contains
  subroutine zero3(a, b2, c)
    real(c_double), intent(out) :: a(:, :), b2(:, :), c(:, :)
    a = 0; b2 = 0; c = 0
  end subroutine zero3
  real(c_double) function rel(a1, a2, a3, b1, b2, b3)
    real(c_double), intent(in), dimension(:, :) :: a1, a2, a3, b1, b2, b3
    rel = sqrt(sum((a1 - b1)**2) + sum((a2 - b2)**2) + sum((a3 - b3)**2)) / &
        max(sqrt(sum(b1**2) + sum(b2**2) + sum(b3**2)), tiny(1.0d0))
  end function rel
  real(c_double) function dotrel(y1, y2, y3, s1, s2, s3, x1, x2, x3, g1, g2, g3)
    real(c_double), intent(in), dimension(:, :) :: y1, y2, y3, s1, s2, s3, x1, x2, x3, g1, g2, g3
    real(c_double) :: a, c
    a = sum(y1*s1) + sum(y2*s2) + sum(y3*s3)
    c = sum(x1*g1) + sum(x2*g2) + sum(x3*g3)
    dotrel = abs(a - c)/max(abs(a), tiny(1.0d0))
  end function dotrel
  real(c_double) function now()
    integer(8) :: c, rate
    call system_clock(c, rate)
    now = real(c, c_double)/real(rate, c_double)
  end function now
  real(c_double) function median(x)
    real(c_double), intent(in) :: x(:)
    real(c_double) :: s(size(x)), tmp
    integer :: p, q
    s = x
    do p = 2, size(s)
      tmp = s(p); q = p - 1
      do while (q >= 1)
        if (s(q) <= tmp) exit
        s(q + 1) = s(q); q = q - 1
      end do
      s(q + 1) = tmp
    end do
    median = s((size(s) + 1)/2)
  end function median
end program sena_{kernel}
"""


def loop_driver() -> str:
    """The time-loop driver (arguments: n nsteps reps; run as one MPI rank)."""
    uses = []
    for s in ("d", "b"):
        uses += [
            f"  use shallow_water_geometry_{s}, only: geom_{s} => shallow_water_geometry_type",
            f"  use shallow_water_state_{s}, only: state_{s} => shallow_water_state_type",
            f"  use shallow_water_model_{s}, only: model_{s} => shallow_water_model_type",
            f"  use sena_step_{s}, only: step_{s}" + (", step_nl => step" if s == "d" else ""),
        ]
    body = LOOP_BODY.replace("!USES", "\n".join(uses))
    return body + "\n".join(_HELPERS) + "\nend program sena_loop\n"


LOOP_BODY = """\
program sena_loop
  use mpi
  use shallow_water_kind, only: r8kind
  use shallow_water_geometry_config, only: shallow_water_geometry_config_type
  use shallow_water_model_config, only: shallow_water_model_config_type
  use shallow_water_geometry, only: geom_p => shallow_water_geometry_type
  use shallow_water_state, only: state_p => shallow_water_state_type
  use shallow_water_model, only: model_p => shallow_water_model_type, &
      tl_p => shallow_water_tl_type, adj_p => shallow_water_adj_type
!USES
  implicit none
  type(shallow_water_geometry_config_type) :: gconf
  type(shallow_water_model_config_type) :: mconf
  type(geom_p) :: gp
  type(geom_d) :: gd
  type(geom_b) :: gb
  type(model_p) :: mp
  type(tl_p) :: tlp
  type(adj_p) :: adjp
  type(model_d) :: md, mdd
  type(model_b) :: mb, mbb
  type(state_p) :: sp, traj
  type(state_d) :: sd, sdd
  type(state_b) :: sb, sbb
  integer :: n, nsteps, reps, r, i, j, ierr, k
  integer :: xps, xpe, yps, ype
  character(len=32) :: arg
  real(r8kind) :: eps
  real(r8kind), allocatable, dimension(:, :) :: u, v, h, du, dv, dh, su, sv, sh, &
      pu, pv, ph, mu, mv, mh, gu, gv, gh, bu, bv, bh, hu, hv, hh, xu, xv, xh, wu, wv, wh
  real(r8kind) :: t0, times(5, 51)
  call MPI_Init(ierr)
  call get_command_argument(1, arg); read(arg, *) n
  call get_command_argument(2, arg); read(arg, *) nsteps
  call get_command_argument(3, arg); read(arg, *) reps
  reps = min(reps, 51)
  gconf = shallow_water_geometry_config_type(n, n, 1.0d3*(n - 1), 1.0d3*(n - 1))
  mconf = shallow_water_model_config_type(0.8d0, 0.0d0, 0.0d0, 0.0d0, 5030.0d0)
  gp = geom_p(gconf, MPI_COMM_WORLD)
  gd = geom_d(gconf, MPI_COMM_WORLD)
  gb = geom_b(gconf, MPI_COMM_WORLD)
  mp = model_p(mconf, gp)
  tlp = tl_p(mconf, gp)
  adjp = adj_p(mconf, gp)
  md = model_d(mconf, gd)
  mb = model_b(mconf, gb)
  xps = gp%get_xps(); xpe = gp%get_xpe(); yps = gp%get_yps(); ype = gp%get_ype()
  allocate(u(xps:xpe, yps:ype))
  allocate(v, h, du, dv, dh, su, sv, sh, pu, pv, ph, mu, mv, mh, gu, gv, gh, bu, bv, bh, &
      hu, hv, hh, xu, xv, xh, wu, wv, wh, mold=u)
  do j = yps, ype
    do i = xps, xpe
      h(i, j) = 5000.0d0 + 30.0d0*exp(-((i - n/2.0d0)**2 + (j - n/2.0d0)**2)/(n/8.0d0)**2)
      u(i, j) = 2.0d0*sin(0.05d0*i + 0.03d0*j)
      v(i, j) = 1.5d0*cos(0.04d0*i - 0.02d0*j)
      du(i, j) = sin(0.3d0*i + 0.7d0*j)
      dv(i, j) = cos(0.5d0*i - 0.2d0*j)
      dh(i, j) = sin(0.11d0*i*j + 0.4d0)
      su(i, j) = cos(0.13d0*i + 0.29d0*j)
      sv(i, j) = sin(0.17d0*i - 0.31d0*j)
      sh(i, j) = cos(0.07d0*i*j + 0.9d0)
    end do
  end do
  do k = 1, 2  ! k = 1: nsteps steps (finite differences, dot product); k = 2: one step
    if (k == 2) nsteps = 1
    eps = 1.0d-4
    pu = u + eps*du; pv = v + eps*dv; ph = h + eps*dh
    sd = state_d(gd, h=h)
    call step_nl(md, sd, pu, pv, ph, xps, yps, nsteps)
    mu = u - eps*du; mv = v - eps*dv; mh = h - eps*dh
    sd = state_d(gd, h=h)
    call step_nl(md, sd, mu, mv, mh, xps, yps, nsteps)
    pu = (pu - mu)/(2*eps); pv = (pv - mv)/(2*eps); ph = (ph - mh)/(2*eps)
    sd = state_d(gd, h=h)
    wu = u; wv = v; wh = h; gu = du; gv = dv; gh = dh
    call step_d(md, mdd, sd, sdd, wu, gu, wv, gv, wh, gh, xps, yps, nsteps)
    sb = state_b(gb, h=h)
    wu = u; wv = v; wh = h; bu = su; bv = sv; bh = sh
    call step_b(mb, mbb, sb, sbb, wu, bu, wv, bv, wh, bh, xps, yps, nsteps)
    if (k == 1) then
      print '(a, i0)', 'loop_nsteps ', nsteps
      print '(a, es12.4)', 'loop_tl_gen_vs_fd ', rel(gu, gv, gh, pu, pv, ph)
      print '(a, es12.4)', 'loop_dot_gen ', dotrel(gu, gv, gh, su, sv, sh, du, dv, dh, bu, bv, bh)
      cycle
    end if
    ! NOAA's tangent and adjoint of one step
    sp = state_p(gp, u=du, v=dv, h=dh)
    traj = state_p(gp, u=u, v=v, h=h)
    call tlp%adv_nsteps(sp, traj, 1)
    hu = sp%get_u(); hv = sp%get_v(); hh = sp%get_h()
    sp = state_p(gp, u=su, v=sv, h=sh)
    traj = state_p(gp, u=u, v=v, h=h)
    call adjp%adv_nsteps(sp, traj, 1)
    xu = sp%get_u(); xv = sp%get_v(); xh = sp%get_h()
    print '(a, es12.4)', 'step_tl_gen_vs_fd ', rel(gu, gv, gh, pu, pv, ph)
    print '(a, es12.4)', 'step_tl_hand_vs_fd ', rel(hu, hv, hh, pu, pv, ph)
    print '(a, es12.4)', 'step_tl_gen_vs_hand ', rel(gu, gv, gh, hu, hv, hh)
    print '(a, es12.4)', 'step_adj_gen_vs_hand ', rel(bu, bv, bh, xu, xv, xh)
    print '(a, es12.4)', 'step_dot_gen ', dotrel(gu, gv, gh, su, sv, sh, du, dv, dh, bu, bv, bh)
    print '(a, es12.4)', 'step_dot_hand ', dotrel(hu, hv, hh, su, sv, sh, du, dv, dh, xu, xv, xh)
  end do
  ! times of one step: nonlinear, generated tangent, hand tangent, generated adjoint, hand adjoint
  do r = 1, reps
    sp = state_p(gp, u=u, v=v, h=h)
    t0 = now(); call mp%adv_nsteps(sp, 1); times(1, r) = now() - t0
    sd = state_d(gd, h=h); wu = u; wv = v; wh = h; gu = du; gv = dv; gh = dh
    t0 = now(); call step_d(md, mdd, sd, sdd, wu, gu, wv, gv, wh, gh, xps, yps, 1)
    times(2, r) = now() - t0
    sp = state_p(gp, u=du, v=dv, h=dh); traj = state_p(gp, u=u, v=v, h=h)
    t0 = now(); call tlp%adv_nsteps(sp, traj, 1); times(3, r) = now() - t0
    sb = state_b(gb, h=h); wu = u; wv = v; wh = h; bu = su; bv = sv; bh = sh
    t0 = now(); call step_b(mb, mbb, sb, sbb, wu, bu, wv, bv, wh, bh, xps, yps, 1)
    times(4, r) = now() - t0
    sp = state_p(gp, u=su, v=sv, h=sh); traj = state_p(gp, u=u, v=v, h=h)
    t0 = now(); call adjp%adv_nsteps(sp, traj, 1); times(5, r) = now() - t0
  end do
  print '(a, 5es12.4)', 'step_times ', (median(times(i, 1:reps)), i = 1, 5)
  call MPI_Finalize(ierr)
contains
"""

_HELPERS = [
    "  real(8) function rel(a1, a2, a3, b1, b2, b3)",
    "    real(8), intent(in), dimension(:, :) :: a1, a2, a3, b1, b2, b3",
    "    rel = sqrt(sum((a1 - b1)**2) + sum((a2 - b2)**2) + sum((a3 - b3)**2)) / &",
    "        max(sqrt(sum(b1**2) + sum(b2**2) + sum(b3**2)), tiny(1.0d0))",
    "  end function rel",
    "  real(8) function dotrel(y1, y2, y3, s1, s2, s3, x1, x2, x3, g1, g2, g3)",
    "    real(8), intent(in), dimension(:, :) :: y1, y2, y3, s1, s2, s3, x1, x2, x3, g1, g2, g3",
    "    real(8) :: a, c",
    "    a = sum(y1*s1) + sum(y2*s2) + sum(y3*s3)",
    "    c = sum(x1*g1) + sum(x2*g2) + sum(x3*g3)",
    "    dotrel = abs(a - c)/max(abs(a), tiny(1.0d0))",
    "  end function dotrel",
    "  real(8) function now()",
    "    integer(8) :: c, rate",
    "    call system_clock(c, rate)",
    "    now = real(c, 8)/real(rate, 8)",
    "  end function now",
    "  real(8) function median(x)",
    "    real(8), intent(in) :: x(:)",
    "    real(8) :: s(size(x)), tmp",
    "    integer :: p, q",
    "    s = x",
    "    do p = 2, size(s)",
    "      tmp = s(p); q = p - 1",
    "      do while (q >= 1)",
    "        if (s(q) <= tmp) exit",
    "        s(q + 1) = s(q); q = q - 1",
    "      end do",
    "      s(q + 1) = tmp",
    "    end do",
    "    median = s((size(s) + 1)/2)",
    "  end function median",
]
