!> Driver for the IFS-style column sample: 10 columns in blocks of 4 (the last one half
!> full), 6 levels, 2 steps of 600 s.
program ifs_column_driver
  use parkind_col, only: jpim, jprb
  use cloud_column, only: cloud_column_run
  implicit none
  integer(kind=jpim), parameter :: nproma = 4, klev = 6, ngptot = 10, ngpblks = 3, nsteps = 2
  real(kind=jprb) :: pap(nproma, klev, ngpblks), pt(nproma, klev, ngpblks)
  real(kind=jprb) :: pq(nproma, klev, ngpblks), pl(nproma, klev, ngpblks), cost
  integer(kind=jpim) :: jl, jk, ibl
  do ibl = 1, ngpblks
    do jk = 1, klev
      do jl = 1, nproma
        pap(jl, jk, ibl) = 6.0e4_jprb + 5.0e3_jprb*jk + 1.0e2_jprb*jl
        pt(jl, jk, ibl) = 259.0_jprb + 1.5_jprb*jk + 0.2_jprb*(jl + ibl)
        pq(jl, jk, ibl) = 1.6e-3_jprb + 2.0e-4_jprb*modulo(jl + jk + ibl, 7)
        pl(jl, jk, ibl) = 1.0e-4_jprb + 7.0e-5_jprb*modulo(jl*jk + ibl, 6)
      end do
    end do
  end do
  call cloud_column_run(nproma, klev, ngptot, ngpblks, nsteps, 600.0_jprb, pap, pt, pq, pl, cost)
  write(*, '(a,es24.16)') 'cost       = ', cost
  write(*, '(a,es24.16)') 'pt(1,1,1)  = ', pt(1, 1, 1)
  write(*, '(a,es24.16)') 'pq(2,3,3)  = ', pq(2, 3, 3)
  write(*, '(a,es24.16)') 'pl(4,6,2)  = ', pl(4, 6, 2)
end program ifs_column_driver
