"""The Fortran driver of the CLOUDSC2 benchmark (``scripts/bench/cloudsc2.py``), written as text.

The driver is ours, not ECMWF's: it sets the module state CLOUDSC2 reads (constants of
``yomcst``/``yoethf`` with the IFS values, ``YRECLD%CETA``, ``YRECLDP``, ``YREPHLI``, ``YRPHNC``,
``YRNCL``) and builds an IFS-like synthetic state in NPROMA blocks: half-level pressures over
``nlev`` levels, a standard-atmosphere temperature with column-to-column waves, humidity from a
relative-humidity profile with two cloud layers, cloud water and ice where the air is near
saturation and convective mass fluxes in a third of the columns.

It then runs, on the same state and perturbation, the nonlinear scheme, the generated tangent
``cloudsc2_d``, ECMWF's tangent ``cloudsc2tl``, the generated adjoint ``cloudsc2_b`` and
ECMWF's adjoint ``cloudsc2ad``, and prints one line per measurement (``KEY name value...``,
read by ``cloudsc2_tables.parse``):

- ``TL out a b c d``: for one output, max|gen - hand| / max(|gen|, |hand|), max|gen - FD| and
  max|hand - FD| over max|FD| (central differences of the nonlinear scheme, step 1e-6 along
  the perturbation), then gen against hand and gen against FD with no PMFU/PMFD perturbation;
- ``DOT pair lhs rhs``: <TL dx, w> and <dx, AD w> for a pair (``gen``, ``hand``, and
  ``hand0``: the hand pair with no PSUPSAT perturbation, as ECMWF's own driver tests it);
- ``AD in a b r``: for one input, max|gen - hand| / max(|gen|, |hand|), the same only at
  points where PMFU+PMFD is nonzero (no MIN tie there), and sum(hand*gen)/sum(gen*gen);
- ``TIME variant seconds``: process CPU time of one sweep over all blocks (one line per rep);
- ``TAPE bytes``: the generated adjoint's tape peak.

The argument lists are built from CLOUDSC2's dummy order (``ARGS``) so that the five call
shapes (primal, interleaved tangent/adjoint pairs, ECMWF's trajectory-then-perturbation) stay
consistent by construction.
"""

from __future__ import annotations

from cloudsc2_state import STATE_ROUTINES

INPUTS = (
    "PAPHP1 PAPP1 PQM1 PQS PTM1 PL PI PLUDE PLU PMFU PMFD PGTENT PGTENQ PGTENL PGTENI PSUPSAT"
).split()
OUTPUTS = "PTENT PTENQ PTENL PTENI PCLC PFPLSL PFPLSN PFHPSL PFHPSN PCOVPTOT".split()
ARGS = (
    "PAPHP1 PAPP1 PQM1 PQS PTM1 PL PI PLUDE PLU PMFU PMFD PTENT PGTENT PTENQ PGTENQ "
    "PTENL PGTENL PTENI PGTENI PSUPSAT PCLC PFPLSL PFPLSN PFHPSL PFHPSN PCOVPTOT"
).split()
HALF_LEVEL = {"PAPHP1", "PFPLSL", "PFPLSN", "PFHPSL", "PFHPSN"}
TSPHY = 900.0  # the physics time step of the driver (s)
HEAD = "call {name}(1, np, np, 1, nlev, .false., tsphy, &\n"


def _ref(name: str, inp: str, out: str) -> str:
    if name in INPUTS:
        return f"{inp}(:,:,{INPUTS.index(name) + 1},ib)"
    return f"{out}(:,:,{OUTPUTS.index(name) + 1},ib)"


def _join(refs: list[str]) -> str:
    lines = [", ".join(refs[i : i + 4]) for i in range(0, len(refs), 4)]
    return "      & " + ", &\n      & ".join(lines) + ")"


def call_plain(name: str, inp: str, out: str) -> str:
    """CLOUDSC2's own argument list (the nonlinear scheme)."""
    return HEAD.format(name=name) + _join([_ref(a, inp, out) for a in ARGS])


def call_pairs(name: str, inp: str, dinp: str, out: str, dout: str) -> str:
    """fortran-ad's list: every active dummy followed by its derivative."""
    refs = []
    for a in ARGS:
        refs += [_ref(a, inp, out), _ref(a, dinp, dout)]
    return HEAD.format(name=name) + _join(refs)


def call_traj(name: str, inp: str, out5: str, dinp: str, dout: str) -> str:
    """ECMWF's list: the trajectory (CLOUDSC2's list) then the perturbation/adjoint."""
    refs = [_ref(a, inp, out5) for a in ARGS] + [_ref(a, dinp, dout) for a in ARGS]
    return HEAD.format(name=name) + _join(refs)


def _levels() -> str:
    ins = ", ".join("nlev+1" if n in HALF_LEVEL else "nlev" for n in INPUTS)
    outs = ", ".join("nlev+1" if n in HALF_LEVEL else "nlev" for n in OUTPUTS)
    return f"  lin = [{ins}]\n  lout = [{outs}]\n"


def _sweep(label: str, body: str) -> str:
    return (
        f"  do irep = 1, nrep\n    call prepare_{label}()\n    call cpu_time(t0)\n"
        f"    do ib = 1, nblk\n      {body}\n    end do\n    call cpu_time(t1)\n"
        f"    write(*,'(a,1x,a,1x,es23.15)') 'TIME', '{label}', t1 - t0\n  end do\n"
    )


def driver_source() -> str:
    """The whole driver program (free form)."""
    calls = {
        "nl": call_plain("cloudsc2", "x", "y"),
        "gen_tl": call_pairs("cloudsc2_d", "x", "dx", "y", "yd"),
        "hand_tl": call_traj("cloudsc2tl", "x", "y5", "dx", "yd"),
        "gen_ad": call_pairs("cloudsc2_b", "x", "xb", "y", "yb"),
        "hand_ad": call_traj("cloudsc2ad", "x", "y5", "xb", "yb"),
    }
    extra = {
        "gen_tl_nomf": call_pairs("cloudsc2_d", "x", "dx", "y", "ym"),
        "hand_tl_nomf": call_traj("cloudsc2tl", "x", "yt", "dx", "y5"),
    }
    timed = "".join(_sweep(k, v.replace("\n", "\n      ")) for k, v in calls.items())
    text = (
        _TEMPLATE.replace("@LEVELS@", _levels())
        .replace("@TSPHY@", repr(TSPHY))
        .replace("@TIMED@", timed)
        .replace("@STATE@", STATE_ROUTINES)
    )
    for k, v in (calls | extra).items():
        text = text.replace(f"@{k.upper()}@", v.replace("\n", "\n      "))
    return text


_TEMPLATE = """\
! CLOUDSC2 benchmark driver (generated by scripts/bench/cloudsc2_driver.py).
program cloudsc2_bench
  use parkind1, only: jpim, jprb
  use yomcst, only: rg, rd, rv, rcpd, retv, rlvtt, rlstt, rlmlt, rtt
  use yoethf
  use yoecld, only: yrecld
  use yoecldp, only: yrecldp
  use yoephli, only: yrephli
  use yophnc, only: yrphnc
  use yomncl, only: yrncl
  use fad_tape, only: fad_tape_peak_bytes
  implicit none
  integer, parameter :: nin = 16, nout = 10
  integer :: np, nlev, nblk, nrep, nlp, ib, irep, k, ievap
  integer :: lin(nin), lout(nout)
  real(jprb) :: tsphy, t0, t1, h
  real(jprb), allocatable, dimension(:,:,:,:) :: dxs, x, dx, xb, xb2
  real(jprb), allocatable, dimension(:,:,:,:) :: y, y5, yd, yd2, yb, yb0, yp, ym, yd5, yt
  character(len=32) :: arg
  logical, allocatable :: tie(:,:,:)

  call get_command_argument(1, arg); read(arg, *) np
  call get_command_argument(2, arg); read(arg, *) nlev
  call get_command_argument(3, arg); read(arg, *) nblk
  call get_command_argument(4, arg); read(arg, *) nrep
  call get_command_argument(5, arg); read(arg, *) ievap
  nlp = nlev + 1
  tsphy = @TSPHY@_jprb
@LEVELS@
  allocate(x(np,nlp,nin,nblk), dx(np,nlp,nin,nblk), xb(np,nlp,nin,nblk), xb2(np,nlp,nin,nblk))
  allocate(y(np,nlp,nout,nblk), y5(np,nlp,nout,nblk), yd(np,nlp,nout,nblk))
  allocate(yd2(np,nlp,nout,nblk), yb(np,nlp,nout,nblk), yb0(np,nlp,nout,nblk))
  allocate(yp(np,nlp,nout,nblk), ym(np,nlp,nout,nblk), dxs(np,nlp,nin,nblk), tie(np,nlp,nblk))
  allocate(yd5(np,nlp,nout,nblk), yt(np,nlp,nout,nblk))
  call set_constants()
  call set_state()

  ! accuracy: tangents, finite differences, adjoints, dot products
  y = 0; yp = 0; ym = 0; y5 = 0
  h = 1.0e-6_jprb
  x = x + h * dx
  do ib = 1, nblk
    @NL@
  end do
  yp = y
  x = x - 2 * h * dx
  do ib = 1, nblk
    @NL@
  end do
  ym = y
  x = x + h * dx
  yd = 0
  do ib = 1, nblk
    @GEN_TL@
  end do
  yd2 = yd
  yd = 0
  do ib = 1, nblk
    @HAND_TL@
  end do
  yp = (yp - ym) / (2 * h)
  ! the tangents again without a mass-flux perturbation (no MIN tie at PMFU+PMFD=0)
  dxs = dx
  dx(:,:,10:11,:) = 0
  ym = 0
  do ib = 1, nblk
    @GEN_TL_NOMF@
  end do
  y5 = 0
  do ib = 1, nblk
    @HAND_TL_NOMF@
  end do
  ! finite differences along that perturbation (no kink of the MIN tie crossed)
  x = x + h * dx
  do ib = 1, nblk
    @NL@
  end do
  yd5 = y
  x = x - 2 * h * dx
  do ib = 1, nblk
    @NL@
  end do
  yd5 = (yd5 - y) / (2 * h)
  x = x + h * dx
  dx = dxs
  do k = 1, nout
    write(*,'(a,1x,i0,5(1x,es23.15))') 'TL', k, &
      & diff(yd2(:,1:lout(k),k,:), yd(:,1:lout(k),k,:)), &
      & diff(yd2(:,1:lout(k),k,:), yp(:,1:lout(k),k,:), yp(:,1:lout(k),k,:)), &
      & diff(yd(:,1:lout(k),k,:), yp(:,1:lout(k),k,:), yp(:,1:lout(k),k,:)), &
      & diff(ym(:,1:lout(k),k,:), y5(:,1:lout(k),k,:)), &
      & diff(ym(:,1:lout(k),k,:), yd5(:,1:lout(k),k,:), yd5(:,1:lout(k),k,:))
  end do
  call set_weights()
  call prepare_gen_ad()
  do ib = 1, nblk
    @GEN_AD@
  end do
  xb2 = xb
  write(*,'(a,1x,a,2(1x,es23.15))') 'DOT', 'gen', wdot(yd2), xdot(xb2, -1)
  call prepare_hand_ad()
  do ib = 1, nblk
    @HAND_AD@
  end do
  write(*,'(a,1x,a,2(1x,es23.15))') 'DOT', 'hand', wdot(yd), xdot(xb, -1)
  tie = .true.
  tie(:,1:nlev,:) = x(:,1:nlev,10,:) + x(:,1:nlev,11,:) /= 0
  do k = 1, nin
    write(*,'(a,1x,i0,3(1x,es23.15))') 'AD', k, diff(xb(:,1:lin(k),k,:), xb2(:,1:lin(k),k,:)), &
      & diff(merge(xb(:,1:lin(k),k,:), 0.0_jprb, tie(:,1:lin(k),:)), &
      &      merge(xb2(:,1:lin(k),k,:), 0.0_jprb, tie(:,1:lin(k),:))), &
      & sum(xb(:,1:lin(k),k,:) * xb2(:,1:lin(k),k,:)) / max(tiny(1.0_jprb), &
      &     sum(xb2(:,1:lin(k),k,:)**2))
  end do
  ! the hand pair without a PSUPSAT perturbation (ECMWF's own test sets it to zero)
  dx(:,:,16,:) = 0
  yd = 0
  do ib = 1, nblk
    @HAND_TL@
  end do
  write(*,'(a,1x,a,2(1x,es23.15))') 'DOT', 'hand0', wdot(yd), xdot(xb, 16)

  ! timings
@TIMED@
  write(*,'(a,1x,i0)') 'TAPE', fad_tape_peak_bytes()

contains

  real(jprb) function diff(a, b, ref)
    real(jprb), intent(in) :: a(:,:,:), b(:,:,:)
    real(jprb), intent(in), optional :: ref(:,:,:)
    real(jprb) :: scale
    if (present(ref)) then
      scale = maxval(abs(ref))
    else
      scale = max(maxval(abs(a)), maxval(abs(b)))
    end if
    if (scale == 0) then
      diff = maxval(abs(a - b))
    else
      diff = maxval(abs(a - b)) / scale
    end if
  end function diff

  real(jprb) function wdot(v)
    real(jprb), intent(in) :: v(:,:,:,:)
    integer :: kk
    wdot = 0
    do kk = 1, nout
      wdot = wdot + sum(v(:,1:lout(kk),kk,:) * yb0(:,1:lout(kk),kk,:))
    end do
  end function wdot

  real(jprb) function xdot(v, skip)
    real(jprb), intent(in) :: v(:,:,:,:)
    integer, intent(in) :: skip
    integer :: kk
    xdot = 0
    do kk = 1, nin
      if (kk /= skip) xdot = xdot + sum(v(:,1:lin(kk),kk,:) * dx(:,1:lin(kk),kk,:))
    end do
  end function xdot

  subroutine set_weights()
    ! adjoint seeds: a smooth pattern scaled by each output's tangent size
    integer :: kk, jl, jk
    yb0 = 0
    do kk = 1, nout
      do ib = 1, nblk
        do jk = 1, lout(kk)
          do jl = 1, np
            yb0(jl,jk,kk,ib) = sin(0.37_jprb * jl + 0.11_jprb * jk + 1.3_jprb * kk + ib)
          end do
        end do
      end do
      yb0(:,:,kk,:) = yb0(:,:,kk,:) / max(tiny(1.0_jprb), maxval(abs(yd(:,1:lout(kk),kk,:))))
    end do
  end subroutine set_weights

  subroutine prepare_nl()
  end subroutine prepare_nl

  subroutine prepare_gen_tl()
  end subroutine prepare_gen_tl

  subroutine prepare_hand_tl()
  end subroutine prepare_hand_tl

  subroutine prepare_gen_ad()
    xb = 0
    yb = yb0
  end subroutine prepare_gen_ad

  subroutine prepare_hand_ad()
    xb = 0
    yb = yb0
  end subroutine prepare_hand_ad

@STATE@
end program cloudsc2_bench
"""
