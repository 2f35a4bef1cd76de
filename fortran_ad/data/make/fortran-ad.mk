# fortran-ad.mk: generate derivative code with fortran-ad from a GNU Make build.
#
# Set the variables, then include this file (before rules that use FAD_OBJECTS):
#
#   FAD_SOURCES = params.f90 model.f90        # compile order: modules before their users
#   FAD_HEAD    = model_run                   # the routine to differentiate
#   FAD_WRT     = u0,kappa                    # independent variables
#   FAD_OF      = cost                        # dependent variables (default: the outputs)
#   include $(shell fortran-ad --make-dir)/fortran-ad.mk   # or <checkout>/make/fortran-ad.mk
#
#   model.exe: $(OBJECTS) $(FAD_OBJECTS) main.o
#   $(FAD_DERIVATIVE_OBJECTS): $(OBJECTS)     # derivative modules `use` the primal modules
#
# Variables (set before the include; command-line overrides work too: make FAD_WRT=u0)
#   FAD          the fortran-ad command                       (default: fortran-ad)
#   FAD_SOURCES  Fortran sources, in compile order            (required)
#   FAD_WRT      independent variables, comma-separated       (required)
#   FAD_OF       dependent variables, comma-separated         (default: the head's outputs)
#   FAD_HEAD     routine to differentiate                     (default: found from FAD_WRT)
#   FAD_MODE     reverse | forward                            (default: reverse)
#   FAD_FLAGS    more fortran-ad options: --memory-limit 4G, --size n=100, ...
#   FAD_OUTDIR   folder of the generated files                (default: fad)
#   FAD_FFLAGS   extra compiler flags for the generated files (compiled with $(FC) $(FFLAGS))
#
# Provided
#   FAD_GENERATED  generated sources in compile order (tape runtime first, in reverse mode)
#   FAD_OBJECTS    their objects ($(FAD_OUTDIR)/%.o, built by the pattern rule below, each
#                  after the one before it so modules exist when they are used)
#   FAD_DERIVATIVE_OBJECTS  FAD_OBJECTS without the tape runtime: the objects that use the
#                  primal modules (make them depend on the primal objects)
#   fad-generate   phony: write the derivative sources only
#   fad-deps       phony: rewrite $(FAD_OUTDIR)/fad-deps.mk with `fortran-ad deps` ("make depend")
#   fad-clean      phony: remove $(FAD_OUTDIR)
#
# How regeneration is decided
#   * $(FAD_OUTDIR)/fad-options holds the fortran-ad command line. It is rewritten only when
#     that differs, so changing FAD_WRT, FAD_OF, FAD_HEAD, FAD_MODE or FAD_FLAGS regenerates
#     and an unchanged command line does not.
#   * $(FAD_OUTDIR)/fad.stamp depends on the sources and the options file. Its recipe runs
#     fortran-ad into a staging folder and copies a file into $(FAD_OUTDIR) only when its text
#     changed: fortran-ad analyses all sources together, so any source edit re-runs it, but only
#     the derivative files whose text changed get new time stamps and are recompiled.
#   * $(FAD_OUTDIR)/fad-deps.mk (included below) lists the generated files; it is remade by
#     `fortran-ad deps` whenever a source or the options change, and Make restarts with it.

# The rules below (and the depfile's) must not become the default goal of the including makefile.
fad_default_goal := $(.DEFAULT_GOAL)

ifeq ($(origin FAD),undefined)
FAD := fortran-ad
endif
FAD_MODE ?= reverse
FAD_OUTDIR ?= fad
FAD_FLAGS ?=
FAD_FFLAGS ?=

ifeq ($(strip $(FAD_SOURCES)),)
$(error fortran-ad.mk: set FAD_SOURCES (the Fortran sources, in compile order) before the include)
endif
ifeq ($(strip $(FAD_WRT)),)
$(error fortran-ad.mk: set FAD_WRT (the independent variables, e.g. u,v) before the include)
endif

FAD_ARGS = --wrt $(FAD_WRT) $(if $(strip $(FAD_OF)),--of $(FAD_OF)) \
  $(if $(strip $(FAD_HEAD)),--head $(FAD_HEAD)) --mode $(FAD_MODE) $(FAD_FLAGS)
FAD_OPTIONS_FILE := $(FAD_OUTDIR)/fad-options
FAD_STAMP := $(FAD_OUTDIR)/fad.stamp
FAD_DEPFILE := $(FAD_OUTDIR)/fad-deps.mk
FAD_OBJECTS = $(patsubst %.f90,%.o,$(FAD_GENERATED))
FAD_DERIVATIVE_OBJECTS = $(filter-out %/fad_tape.o,$(FAD_OBJECTS))

# FAD_GENERATED and the object order come from the depfile, remade (then Make restarts) when it
# is older than a source or the options. Not needed when the only goals are clean-ups.
FAD_NODEPS_GOALS ?= clean distclean fad-clean
ifneq ($(strip $(MAKECMDGOALS)),)
ifeq ($(filter-out $(FAD_NODEPS_GOALS),$(MAKECMDGOALS)),)
fad_skip_depfile := 1
endif
endif
ifndef fad_skip_depfile
include $(FAD_DEPFILE)
endif

fad_options_text = $(subst ','\'',$(FAD) $(FAD_SOURCES) $(FAD_ARGS))
fad_command = $(FAD) $(FAD_SOURCES) $(FAD_ARGS)

# One shell line: generate into a private staging folder, stamp, then copy the files whose text
# changed (a failed copy removes the stamp so that the next make tries again).
fad_generate_sh = echo '$(subst ','\'',$(fad_command)) -o $(FAD_OUTDIR)'; \
  stage=$(FAD_OUTDIR)/.stage.$$$$; rm -rf $$stage; \
  $(fad_command) -o $$stage > /dev/null || { rm -rf $$stage; exit 1; }; \
  touch $(FAD_STAMP); \
  for f in $$(ls $$stage); do \
    cmp -s $$stage/$$f $(FAD_OUTDIR)/$$f && continue; \
    cp $$stage/$$f $(FAD_OUTDIR)/$$f || { rm -f $(FAD_STAMP); rm -rf $$stage; exit 1; }; \
    echo "fortran-ad: updated $(FAD_OUTDIR)/$$f"; \
  done; \
  rm -rf $$stage

# The generated files, then "<object>: <previous object>" lines (compile order).
fad_deps_sh = mkdir -p $(FAD_OUTDIR); \
  echo '$(subst ','\'',$(FAD) deps $(FAD_SOURCES) $(FAD_ARGS)) -o $(FAD_OUTDIR)'; \
  list=$$($(FAD) deps $(FAD_SOURCES) $(FAD_ARGS) -o $(FAD_OUTDIR)) || exit 1; \
  { echo '\# written by fortran-ad.mk from `fortran-ad deps`: do not edit'; \
    printf 'FAD_GENERATED :='; printf ' %s' $$list; echo; \
    prev=; for f in $$list; do \
      o=$${f%.f90}.o; [ -z "$$prev" ] || echo "$$o: $$prev"; prev=$$o; \
    done; } > $(FAD_DEPFILE).tmp && mv $(FAD_DEPFILE).tmp $(FAD_DEPFILE)

.PHONY: fad-generate fad-deps fad-clean fad-force

# Rewritten only when the command line changed (Make compares time stamps after a recipe, so
# the stamp below is out of date only if this file really changed).
$(FAD_OPTIONS_FILE): fad-force
	@mkdir -p $(@D)
	@echo '$(fad_options_text)' | cmp -s - $@ || echo '$(fad_options_text)' > $@

fad-force: ;

$(FAD_STAMP): $(FAD_SOURCES) $(FAD_OPTIONS_FILE)
	@$(fad_generate_sh)

# Up to date after the stamp's recipe; a deleted file is generated again.
ifneq ($(strip $(FAD_GENERATED)),)
$(FAD_GENERATED): $(FAD_STAMP)
	@test -f $@ || { $(fad_generate_sh); }
endif

$(FAD_DEPFILE): $(FAD_SOURCES) $(FAD_OPTIONS_FILE)
	@$(fad_deps_sh)

$(FAD_OUTDIR)/%.o: $(FAD_OUTDIR)/%.f90
	$(FC) $(FFLAGS) $(FAD_FFLAGS) -c $< -o $@

fad-generate: $(FAD_GENERATED)

fad-deps:
	@$(fad_deps_sh)

fad-clean:
	rm -rf $(FAD_OUTDIR)

.DEFAULT_GOAL := $(fad_default_goal)
