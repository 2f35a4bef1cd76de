/* Column configuration (a C header, as in many model builds) */
#define DIFFUSIVITY 0.2_wp
#define TIMESTEP 0.1_wp
#define SQUARE(x) ((x)*(x))
#ifndef DRAG_COEF
#define DRAG_COEF 0.05_wp
#endif
