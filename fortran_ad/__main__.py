import sys

from fortran_ad.cli import main

sys.exit(main())
