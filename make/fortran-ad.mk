# Forwards to the copy shipped in the Python package (one copy of the Make code):
# fortran_ad/data/make/fortran-ad.mk. From a checkout: include <checkout>/make/fortran-ad.mk;
# after pip install: include $(shell fortran-ad --make-dir)/fortran-ad.mk
include $(dir $(lastword $(MAKEFILE_LIST)))../fortran_ad/data/make/fortran-ad.mk
