// CPU-time microbenchmark of the convolution kernels of each path, at the shapes of the presets' layers:
// the best of 7 timings of the calling thread's CPU time, which a loaded shared machine disturbs less than
// wall time. Build at SwiftPM's release level for C (-O2), from the repository root:
//   clang -O2 -o /tmp/kernel_harness bench/kernel_harness.c Sources/CKernels/{convolution_portable,convolution_avx2,convolution_avx512,kernels,dispatch,winograd,winograd4}.c \
//     -ISources/CKernels/include -ISources/CKernels && /tmp/kernel_harness [FIRST_PATH]
// FIRST_PATH: 0 portable, 1 avx2 (default), 2 avx512; paths the CPU lacks crash with an illegal instruction.
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double cpu(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static float *randf(size_t n){float*p=aligned_alloc(64,((n*4+63)/64)*64);for(size_t i=0;i<n;i++)p[i]=rand()/(float)RAND_MAX-0.5f;return p;}
typedef struct {const char*name; double best;} R;
#define TIME(label, reps, body) do{ double best=1e9; for(int k=0;k<7;k++){double t=cpu(); for(int r=0;r<reps;r++){body;} double e=(cpu()-t)/reps; if(e<best)best=e;} printf("  %-34s %8.1f us\n", label, best*1e6);}while(0)
int main(int argc,char**argv){
  const ckernels_convolution *tabs[3]={&ckernels_convolution_table_portable,&ckernels_convolution_table_avx2,&ckernels_convolution_table_avx512};
  int first = argc>1?atoi(argv[1]):1;
  for(int p=first;p<3;p++){ const ckernels_convolution*K=tabs[p]; printf("path %d\n",p);
    // F4 forward: 3 images 32x32, 32->32 ; 64->64 16x16 12 images? (group 192 tiles: 16 tiles/img -> 12)
    struct {int images,in,out,h;} f4[]={{3,32,32,32},{12,64,64,16},{3,16,16,32}}, f2[]={{12,128,128,8},{12,64,128,8}};
    for(int i=0;i<3;i++){int n=f4[i].images,in=f4[i].in,out=f4[i].out,h=f4[i].h;
      float*x=randf((size_t)n*h*h*in),*w=randf(36*in*out),*y=randf((size_t)n*h*h*out),*s=randf(ckernels_winograd4_scratch(n,in,out,h,h));
      char l[64];sprintf(l,"F4 fwd %dx %d->%d %dx%d",n,in,out,h,h); TIME(l,20,K->winograd4_forward(x,n,in,w,NULL,out,h,h,y,s));
      int tiles=n*(h/4)*(h/4);
      { size_t ip0=ckernels_winograd_plane(tiles,in), op0=ckernels_winograd_plane(tiles,out); float*vv=randf(36*ip0),*mm=randf(36*op0);
        TIME("  of which products",20,for(int xi=0;xi<36;xi++) K->forward(vv+xi*ip0,tiles,in,w+(size_t)xi*in*out,NULL,out,1,1,1,tiles,mm+xi*op0)); } size_t ip=ckernels_winograd_plane(tiles,in), op=ckernels_winograd_plane(tiles,out);
      float*v=randf(36*ip),*u=randf(36*op),*m=randf(36*in*out);
      sprintf(l,"F4 grad tiles"); TIME(l,20,for(int k=0;k<n;k++) K->winograd4_gradient_tiles(x+(size_t)k*h*h*in,y+(size_t)k*h*h*out,in,out,h,h,tiles,k*(h/4)*(h/4),v,u));
      sprintf(l,"F4 dW products"); TIME(l,20,for(int xi=0;xi<36;xi++) K->weight_gradient(v+xi*ip,u+xi*op,tiles,1,0,1,in,out,m+xi*in*out));
    }
    for(int i=0;i<2;i++){int n=f2[i].images,in=f2[i].in,out=f2[i].out,h=f2[i].h;
      float*x=randf((size_t)n*h*h*in),*w=randf(16*in*out),*y=randf((size_t)n*h*h*out),*s=randf(ckernels_winograd_scratch(n,in,out,h,h));
      char l[64];sprintf(l,"F2 fwd %dx %d->%d %dx%d",n,in,out,h,h); TIME(l,20,K->winograd_forward(x,n,in,w,NULL,out,h,h,y,s));
    }
    { int in=3,out=32,h=32; float*x=randf(34*34*in),*w=randf(9*in*out),*y=randf(h*h*out);
      TIME("direct 3->32 32x32 (1 image)",50,K->forward(x,34,in,w,NULL,out,3,1,h,h,y)); }
    { int in=32,out=64,h=8; float*x=randf(18*18*in),*w=randf(9*in*out),*y=randf(h*h*out);
      TIME("direct s2 32->64 16->8 (1 image)",200,K->forward(x,18,in,w,NULL,out,3,2,h,h,y)); }
  }
}
