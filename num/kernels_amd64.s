//go:build amd64 && !purego

#include "textflag.h"

// Level-1 and matrix-vector kernels, AVX2+FMA and AVX-512 versions.
// The Go wrappers (kernelSet methods) check every length; these read and
// write only the first len(x) (or len(y)) elements of each slice. AVX2 tails
// are scalar; AVX-512 tails use masked loads and stores, which do not touch
// the masked-off elements.

// ---------------------------------------------------------------- helpers

// HSUMY0 leaves the sum of the 8 lanes of Y0 in X0 (clobbers X1).
#define HSUMY0 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VADDPS       X1, X0, X0; \
	VPSHUFD      $1, X0, X1; \
	VADDSS       X1, X0, X0

// HSUMZ0 leaves the sum of the 16 lanes of Z0 in X0 (clobbers Z1).
#define HSUMZ0 \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS        Y1, Y0, Y0; \
	HSUMY0

// TAILMASK sets K1 to the low CX bits (CX < 16); clobbers AX.
#define TAILMASK \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1

// ================================================================== AVX2

// func dotAVX2(x, y []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5

d2loop48:
	CMPQ        CX, $48
	JB          d2loop8
	VMOVUPS     (SI), Y6
	VMOVUPS     32(SI), Y7
	VMOVUPS     64(SI), Y8
	VMOVUPS     96(SI), Y9
	VMOVUPS     128(SI), Y10
	VMOVUPS     160(SI), Y11
	VFMADD231PS (DI), Y6, Y0
	VFMADD231PS 32(DI), Y7, Y1
	VFMADD231PS 64(DI), Y8, Y2
	VFMADD231PS 96(DI), Y9, Y3
	VFMADD231PS 128(DI), Y10, Y4
	VFMADD231PS 160(DI), Y11, Y5
	ADDQ        $192, SI
	ADDQ        $192, DI
	SUBQ        $48, CX
	JMP         d2loop48

d2loop8:
	CMPQ        CX, $8
	JB          d2reduce
	VMOVUPS     (SI), Y6
	VFMADD231PS (DI), Y6, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         d2loop8

d2reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y5, Y4, Y4
	VADDPS Y2, Y0, Y0
	VADDPS Y4, Y0, Y0
	HSUMY0

d2tail:
	TESTQ       CX, CX
	JZ          d2done
	VMOVSS      (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         d2tail

d2done:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func axpyAVX2(alpha float32, x, y []float32)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Y13
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI

a2loop32:
	CMPQ        CX, $32
	JB          a2loop8
	VMOVUPS     (SI), Y0
	VMOVUPS     32(SI), Y1
	VMOVUPS     64(SI), Y2
	VMOVUPS     96(SI), Y3
	VFMADD213PS (DI), Y13, Y0
	VFMADD213PS 32(DI), Y13, Y1
	VFMADD213PS 64(DI), Y13, Y2
	VFMADD213PS 96(DI), Y13, Y3
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y1, 32(DI)
	VMOVUPS     Y2, 64(DI)
	VMOVUPS     Y3, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         a2loop32

a2loop8:
	CMPQ        CX, $8
	JB          a2tail
	VMOVUPS     (SI), Y0
	VFMADD213PS (DI), Y13, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         a2loop8

a2tail:
	TESTQ       CX, CX
	JZ          a2done
	VMOVSS      (SI), X0
	VFMADD213SS (DI), X13, X0
	VMOVSS      X0, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         a2tail

a2done:
	VZEROUPPER
	RET

// func axpyDotAVX2(alpha float32, x, y, z []float32) float32
TEXT ·axpyDotAVX2(SB), NOSPLIT, $0-84
	VBROADCASTSS alpha+0(FP), Y13
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	MOVQ         z_base+56(FP), R8
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3

ad2loop32:
	CMPQ        CX, $32
	JB          ad2loop8
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD213PS (DI), Y13, Y4
	VFMADD213PS 32(DI), Y13, Y5
	VFMADD213PS 64(DI), Y13, Y6
	VFMADD213PS 96(DI), Y13, Y7
	VFMADD231PS (R8), Y4, Y0
	VFMADD231PS 32(R8), Y5, Y1
	VFMADD231PS 64(R8), Y6, Y2
	VFMADD231PS 96(R8), Y7, Y3
	VMOVUPS     Y4, (DI)
	VMOVUPS     Y5, 32(DI)
	VMOVUPS     Y6, 64(DI)
	VMOVUPS     Y7, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	ADDQ        $128, R8
	SUBQ        $32, CX
	JMP         ad2loop32

ad2loop8:
	CMPQ        CX, $8
	JB          ad2reduce
	VMOVUPS     (SI), Y4
	VFMADD213PS (DI), Y13, Y4
	VFMADD231PS (R8), Y4, Y0
	VMOVUPS     Y4, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, R8
	SUBQ        $8, CX
	JMP         ad2loop8

ad2reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUMY0

ad2tail:
	TESTQ       CX, CX
	JZ          ad2done
	VMOVSS      (SI), X4
	VFMADD213SS (DI), X13, X4
	VFMADD231SS (R8), X4, X0
	VMOVSS      X4, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	ADDQ        $4, R8
	DECQ        CX
	JMP         ad2tail

ad2done:
	VZEROUPPER
	MOVSS X0, ret+80(FP)
	RET

// func dot4AVX2(a []float32, lda int, x, y []float32)
// y[r] = dot(a[r*lda:r*lda+len(x)], x), r < 4.
TEXT ·dot4AVX2(SB), NOSPLIT, $0-80
	MOVQ   a_base+0(FP), SI
	MOVQ   lda+24(FP), R9
	SHLQ   $2, R9
	LEAQ   (R9)(R9*2), R10
	MOVQ   x_base+32(FP), DI
	MOVQ   x_len+40(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

g2loop16:
	CMPQ        CX, $16
	JB          g2loop8
	VMOVUPS     (DI), Y8
	VMOVUPS     32(DI), Y9
	VFMADD231PS (SI), Y8, Y0
	VFMADD231PS 32(SI), Y9, Y4
	VFMADD231PS (SI)(R9*1), Y8, Y1
	VFMADD231PS 32(SI)(R9*1), Y9, Y5
	VFMADD231PS (SI)(R9*2), Y8, Y2
	VFMADD231PS 32(SI)(R9*2), Y9, Y6
	VFMADD231PS (SI)(R10*1), Y8, Y3
	VFMADD231PS 32(SI)(R10*1), Y9, Y7
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         g2loop16

g2loop8:
	CMPQ        CX, $8
	JB          g2reduce
	VMOVUPS     (DI), Y8
	VFMADD231PS (SI), Y8, Y0
	VFMADD231PS (SI)(R9*1), Y8, Y1
	VFMADD231PS (SI)(R9*2), Y8, Y2
	VFMADD231PS (SI)(R10*1), Y8, Y3
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX

g2reduce:
	// Fold each row's two accumulators, then sum the 4 rows' lanes
	// together: after two horizontal adds lane r (and r+4) of Y0 holds
	// half of row r's sum.
	VADDPS    Y4, Y0, Y0
	VADDPS    Y5, Y1, Y1
	VADDPS    Y6, Y2, Y2
	VADDPS    Y7, Y3, Y3
	VHADDPS   Y1, Y0, Y0 // r0 r0 r1 r1 | r0 r0 r1 r1
	VHADDPS   Y3, Y2, Y2 // r2 r2 r3 r3 | ...
	VHADDPS   Y2, Y0, Y0 // r0 r1 r2 r3 | r0 r1 r2 r3
	VEXTRACTF128 $1, Y0, X1
	VADDPS    X1, X0, X0

	// Scalar tail: X8 holds x[j], X4..X7 the rows' tail sums.
	VXORPS X4, X4, X4
	VXORPS X5, X5, X5
	VXORPS X6, X6, X6
	VXORPS X7, X7, X7

g2tail:
	TESTQ       CX, CX
	JZ          g2done
	VMOVSS      (DI), X8
	VFMADD231SS (SI), X8, X4
	VFMADD231SS (SI)(R9*1), X8, X5
	VFMADD231SS (SI)(R9*2), X8, X6
	VFMADD231SS (SI)(R10*1), X8, X7
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         g2tail

g2done:
	VINSERTPS $0x10, X5, X4, X4 // X4 = [t0 t1 . .]
	VINSERTPS $0x20, X6, X4, X4
	VINSERTPS $0x30, X7, X4, X4
	VADDPS    X4, X0, X0
	MOVQ      y_base+56(FP), DI
	VMOVUPS   X0, (DI)
	VZEROUPPER
	RET

// func axpy4AVX2(c, a []float32, lda int, y []float32)
// y[j] += c[0]*a[j] + c[1]*a[lda+j] + c[2]*a[2*lda+j] + c[3]*a[3*lda+j].
TEXT ·axpy4AVX2(SB), NOSPLIT, $0-80
	MOVQ         c_base+0(FP), BX
	VBROADCASTSS (BX), Y12
	VBROADCASTSS 4(BX), Y13
	VBROADCASTSS 8(BX), Y14
	VBROADCASTSS 12(BX), Y11
	MOVQ         a_base+24(FP), SI
	MOVQ         lda+48(FP), R9
	SHLQ         $2, R9
	LEAQ         (R9)(R9*2), R10
	MOVQ         y_base+56(FP), DI
	MOVQ         y_len+64(FP), CX

t2loop16:
	CMPQ        CX, $16
	JB          t2loop8
	VMOVUPS     (DI), Y0
	VMOVUPS     32(DI), Y1
	VFMADD231PS (SI), Y12, Y0
	VFMADD231PS 32(SI), Y12, Y1
	VFMADD231PS (SI)(R9*1), Y13, Y0
	VFMADD231PS 32(SI)(R9*1), Y13, Y1
	VFMADD231PS (SI)(R9*2), Y14, Y0
	VFMADD231PS 32(SI)(R9*2), Y14, Y1
	VFMADD231PS (SI)(R10*1), Y11, Y0
	VFMADD231PS 32(SI)(R10*1), Y11, Y1
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y1, 32(DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         t2loop16

t2loop8:
	CMPQ        CX, $8
	JB          t2tail
	VMOVUPS     (DI), Y0
	VFMADD231PS (SI), Y12, Y0
	VFMADD231PS (SI)(R9*1), Y13, Y0
	VFMADD231PS (SI)(R9*2), Y14, Y0
	VFMADD231PS (SI)(R10*1), Y11, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX

t2tail:
	TESTQ       CX, CX
	JZ          t2done
	VMOVSS      (DI), X0
	VFMADD231SS (SI), X12, X0
	VFMADD231SS (SI)(R9*1), X13, X0
	VFMADD231SS (SI)(R9*2), X14, X0
	VFMADD231SS (SI)(R10*1), X11, X0
	VMOVSS      X0, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         t2tail

t2done:
	VZEROUPPER
	RET

// func scaleAVX2(alpha float32, x []float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y13
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX

s2loop32:
	CMPQ    CX, $32
	JB      s2loop8
	VMULPS  (SI), Y13, Y0
	VMULPS  32(SI), Y13, Y1
	VMULPS  64(SI), Y13, Y2
	VMULPS  96(SI), Y13, Y3
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	VMOVUPS Y2, 64(SI)
	VMOVUPS Y3, 96(SI)
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     s2loop32

s2loop8:
	CMPQ    CX, $8
	JB      s2tail
	VMULPS  (SI), Y13, Y0
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     s2loop8

s2tail:
	TESTQ  CX, CX
	JZ     s2done
	VMULSS (SI), X13, X0
	VMOVSS X0, (SI)
	ADDQ   $4, SI
	DECQ   CX
	JMP    s2tail

s2done:
	VZEROUPPER
	RET

// func addAVX2(dst, x []float32)
TEXT ·addAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI

p2loop32:
	CMPQ    CX, $32
	JB      p2loop8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VADDPS  (DI), Y0, Y0
	VADDPS  32(DI), Y1, Y1
	VADDPS  64(DI), Y2, Y2
	VADDPS  96(DI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     p2loop32

p2loop8:
	CMPQ    CX, $8
	JB      p2tail
	VMOVUPS (SI), Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     p2loop8

p2tail:
	TESTQ  CX, CX
	JZ     p2done
	VMOVSS (SI), X0
	VADDSS (DI), X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    p2tail

p2done:
	VZEROUPPER
	RET

// func sumAVX2(x []float32) float32
TEXT ·sumAVX2(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

u2loop32:
	CMPQ   CX, $32
	JB     u2loop8
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	ADDQ   $128, SI
	SUBQ   $32, CX
	JMP    u2loop32

u2loop8:
	CMPQ   CX, $8
	JB     u2reduce
	VADDPS (SI), Y0, Y0
	ADDQ   $32, SI
	SUBQ   $8, CX
	JMP    u2loop8

u2reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUMY0

u2tail:
	TESTQ  CX, CX
	JZ     u2done
	VADDSS (SI), X0, X0
	ADDQ   $4, SI
	DECQ   CX
	JMP    u2tail

u2done:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// ================================================================ AVX-512

// func dotAVX512(x, y []float32) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

d5loop128:
	CMPQ        CX, $128
	JB          d5loop16
	VMOVUPS     (SI), Z8
	VMOVUPS     64(SI), Z9
	VMOVUPS     128(SI), Z10
	VMOVUPS     192(SI), Z11
	VMOVUPS     256(SI), Z12
	VMOVUPS     320(SI), Z13
	VMOVUPS     384(SI), Z14
	VMOVUPS     448(SI), Z15
	VFMADD231PS (DI), Z8, Z0
	VFMADD231PS 64(DI), Z9, Z1
	VFMADD231PS 128(DI), Z10, Z2
	VFMADD231PS 192(DI), Z11, Z3
	VFMADD231PS 256(DI), Z12, Z4
	VFMADD231PS 320(DI), Z13, Z5
	VFMADD231PS 384(DI), Z14, Z6
	VFMADD231PS 448(DI), Z15, Z7
	ADDQ        $512, SI
	ADDQ        $512, DI
	SUBQ        $128, CX
	JMP         d5loop128

d5loop16:
	CMPQ        CX, $16
	JB          d5tail
	VMOVUPS     (SI), Z8
	VFMADD231PS (DI), Z8, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         d5loop16

d5tail:
	TESTQ       CX, CX
	JZ          d5reduce
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z8
	VMOVUPS.Z   (DI), K1, Z9
	VFMADD231PS Z9, Z8, Z1

d5reduce:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z5, Z4, Z4
	VADDPS Z7, Z6, Z6
	VADDPS Z2, Z0, Z0
	VADDPS Z6, Z4, Z4
	VADDPS Z4, Z0, Z0
	HSUMZ0
	VZEROUPPER
	MOVSS  X0, ret+48(FP)
	RET

// func axpyAVX512(alpha float32, x, y []float32)
TEXT ·axpyAVX512(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Z31
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI

a5loop64:
	CMPQ        CX, $64
	JB          a5loop16
	VMOVUPS     (SI), Z0
	VMOVUPS     64(SI), Z1
	VMOVUPS     128(SI), Z2
	VMOVUPS     192(SI), Z3
	VFMADD213PS (DI), Z31, Z0
	VFMADD213PS 64(DI), Z31, Z1
	VFMADD213PS 128(DI), Z31, Z2
	VFMADD213PS 192(DI), Z31, Z3
	VMOVUPS     Z0, (DI)
	VMOVUPS     Z1, 64(DI)
	VMOVUPS     Z2, 128(DI)
	VMOVUPS     Z3, 192(DI)
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	JMP         a5loop64

a5loop16:
	CMPQ        CX, $16
	JB          a5tail
	VMOVUPS     (SI), Z0
	VFMADD213PS (DI), Z31, Z0
	VMOVUPS     Z0, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         a5loop16

a5tail:
	TESTQ       CX, CX
	JZ          a5done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DI), K1, Z1
	VFMADD231PS Z0, Z31, Z1
	VMOVUPS     Z1, K1, (DI)

a5done:
	VZEROUPPER
	RET

// func axpyDotAVX512(alpha float32, x, y, z []float32) float32
TEXT ·axpyDotAVX512(SB), NOSPLIT, $0-84
	VBROADCASTSS alpha+0(FP), Z31
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	MOVQ         z_base+56(FP), R8
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3

ad5loop64:
	CMPQ        CX, $64
	JB          ad5loop16
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VFMADD213PS (DI), Z31, Z4
	VFMADD213PS 64(DI), Z31, Z5
	VFMADD213PS 128(DI), Z31, Z6
	VFMADD213PS 192(DI), Z31, Z7
	VFMADD231PS (R8), Z4, Z0
	VFMADD231PS 64(R8), Z5, Z1
	VFMADD231PS 128(R8), Z6, Z2
	VFMADD231PS 192(R8), Z7, Z3
	VMOVUPS     Z4, (DI)
	VMOVUPS     Z5, 64(DI)
	VMOVUPS     Z6, 128(DI)
	VMOVUPS     Z7, 192(DI)
	ADDQ        $256, SI
	ADDQ        $256, DI
	ADDQ        $256, R8
	SUBQ        $64, CX
	JMP         ad5loop64

ad5loop16:
	CMPQ        CX, $16
	JB          ad5tail
	VMOVUPS     (SI), Z4
	VFMADD213PS (DI), Z31, Z4
	VFMADD231PS (R8), Z4, Z0
	VMOVUPS     Z4, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, R8
	SUBQ        $16, CX
	JMP         ad5loop16

ad5tail:
	TESTQ       CX, CX
	JZ          ad5reduce
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VMOVUPS.Z   (R8), K1, Z6
	VFMADD231PS Z4, Z31, Z5
	VFMADD231PS Z6, Z5, Z1
	VMOVUPS     Z5, K1, (DI)

ad5reduce:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUMZ0
	VZEROUPPER
	MOVSS  X0, ret+80(FP)
	RET

// func dot4AVX512(a []float32, lda int, x, y []float32)
TEXT ·dot4AVX512(SB), NOSPLIT, $0-80
	MOVQ   a_base+0(FP), SI
	MOVQ   lda+24(FP), R9
	SHLQ   $2, R9
	LEAQ   (R9)(R9*2), R10
	MOVQ   x_base+32(FP), DI
	MOVQ   x_len+40(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

g5loop32:
	CMPQ        CX, $32
	JB          g5loop16
	VMOVUPS     (DI), Z8
	VMOVUPS     64(DI), Z9
	VFMADD231PS (SI), Z8, Z0
	VFMADD231PS 64(SI), Z9, Z4
	VFMADD231PS (SI)(R9*1), Z8, Z1
	VFMADD231PS 64(SI)(R9*1), Z9, Z5
	VFMADD231PS (SI)(R9*2), Z8, Z2
	VFMADD231PS 64(SI)(R9*2), Z9, Z6
	VFMADD231PS (SI)(R10*1), Z8, Z3
	VFMADD231PS 64(SI)(R10*1), Z9, Z7
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         g5loop32

g5loop16:
	CMPQ        CX, $16
	JB          g5tail
	VMOVUPS     (DI), Z8
	VFMADD231PS (SI), Z8, Z0
	VFMADD231PS (SI)(R9*1), Z8, Z1
	VFMADD231PS (SI)(R9*2), Z8, Z2
	VFMADD231PS (SI)(R10*1), Z8, Z3
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX

g5tail:
	TESTQ       CX, CX
	JZ          g5reduce
	TAILMASK
	VMOVUPS.Z   (DI), K1, Z8
	VMOVUPS.Z   (SI), K1, Z9
	VFMADD231PS Z9, Z8, Z4
	VMOVUPS.Z   (SI)(R9*1), K1, Z9
	VFMADD231PS Z9, Z8, Z5
	VMOVUPS.Z   (SI)(R9*2), K1, Z9
	VFMADD231PS Z9, Z8, Z6
	VMOVUPS.Z   (SI)(R10*1), K1, Z9
	VFMADD231PS Z9, Z8, Z7

g5reduce:
	VADDPS        Z4, Z0, Z0
	VADDPS        Z5, Z1, Z1
	VADDPS        Z6, Z2, Z2
	VADDPS        Z7, Z3, Z3
	VEXTRACTF64X4 $1, Z0, Y4
	VEXTRACTF64X4 $1, Z1, Y5
	VEXTRACTF64X4 $1, Z2, Y6
	VEXTRACTF64X4 $1, Z3, Y7
	VADDPS        Y4, Y0, Y0
	VADDPS        Y5, Y1, Y1
	VADDPS        Y6, Y2, Y2
	VADDPS        Y7, Y3, Y3
	VHADDPS       Y1, Y0, Y0
	VHADDPS       Y3, Y2, Y2
	VHADDPS       Y2, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	MOVQ          y_base+56(FP), DI
	VMOVUPS       X0, (DI)
	VZEROUPPER
	RET

// func axpy4AVX512(c, a []float32, lda int, y []float32)
TEXT ·axpy4AVX512(SB), NOSPLIT, $0-80
	MOVQ         c_base+0(FP), BX
	VBROADCASTSS (BX), Z28
	VBROADCASTSS 4(BX), Z29
	VBROADCASTSS 8(BX), Z30
	VBROADCASTSS 12(BX), Z31
	MOVQ         a_base+24(FP), SI
	MOVQ         lda+48(FP), R9
	SHLQ         $2, R9
	LEAQ         (R9)(R9*2), R10
	MOVQ         y_base+56(FP), DI
	MOVQ         y_len+64(FP), CX

t5loop32:
	CMPQ        CX, $32
	JB          t5loop16
	VMOVUPS     (DI), Z0
	VMOVUPS     64(DI), Z1
	VFMADD231PS (SI), Z28, Z0
	VFMADD231PS 64(SI), Z28, Z1
	VFMADD231PS (SI)(R9*1), Z29, Z0
	VFMADD231PS 64(SI)(R9*1), Z29, Z1
	VFMADD231PS (SI)(R9*2), Z30, Z0
	VFMADD231PS 64(SI)(R9*2), Z30, Z1
	VFMADD231PS (SI)(R10*1), Z31, Z0
	VFMADD231PS 64(SI)(R10*1), Z31, Z1
	VMOVUPS     Z0, (DI)
	VMOVUPS     Z1, 64(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         t5loop32

t5loop16:
	CMPQ        CX, $16
	JB          t5tail
	VMOVUPS     (DI), Z0
	VFMADD231PS (SI), Z28, Z0
	VFMADD231PS (SI)(R9*1), Z29, Z0
	VFMADD231PS (SI)(R9*2), Z30, Z0
	VFMADD231PS (SI)(R10*1), Z31, Z0
	VMOVUPS     Z0, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX

t5tail:
	TESTQ       CX, CX
	JZ          t5done
	TAILMASK
	VMOVUPS.Z   (DI), K1, Z0
	VMOVUPS.Z   (SI), K1, Z1
	VFMADD231PS Z1, Z28, Z0
	VMOVUPS.Z   (SI)(R9*1), K1, Z1
	VFMADD231PS Z1, Z29, Z0
	VMOVUPS.Z   (SI)(R9*2), K1, Z1
	VFMADD231PS Z1, Z30, Z0
	VMOVUPS.Z   (SI)(R10*1), K1, Z1
	VFMADD231PS Z1, Z31, Z0
	VMOVUPS     Z0, K1, (DI)

t5done:
	VZEROUPPER
	RET

// func scaleAVX512(alpha float32, x []float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Z31
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX

s5loop64:
	CMPQ    CX, $64
	JB      s5loop16
	VMULPS  (SI), Z31, Z0
	VMULPS  64(SI), Z31, Z1
	VMULPS  128(SI), Z31, Z2
	VMULPS  192(SI), Z31, Z3
	VMOVUPS Z0, (SI)
	VMOVUPS Z1, 64(SI)
	VMOVUPS Z2, 128(SI)
	VMOVUPS Z3, 192(SI)
	ADDQ    $256, SI
	SUBQ    $64, CX
	JMP     s5loop64

s5loop16:
	CMPQ    CX, $16
	JB      s5tail
	VMULPS  (SI), Z31, Z0
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     s5loop16

s5tail:
	TESTQ     CX, CX
	JZ        s5done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMULPS    Z0, Z31, Z0
	VMOVUPS   Z0, K1, (SI)

s5done:
	VZEROUPPER
	RET

// func addAVX512(dst, x []float32)
TEXT ·addAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI

p5loop64:
	CMPQ    CX, $64
	JB      p5loop16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VADDPS  (DI), Z0, Z0
	VADDPS  64(DI), Z1, Z1
	VADDPS  128(DI), Z2, Z2
	VADDPS  192(DI), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $64, CX
	JMP     p5loop64

p5loop16:
	CMPQ    CX, $16
	JB      p5tail
	VMOVUPS (SI), Z0
	VADDPS  (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     p5loop16

p5tail:
	TESTQ     CX, CX
	JZ        p5done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DI), K1, Z1
	VADDPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

p5done:
	VZEROUPPER
	RET

// func sumAVX512(x []float32) float32
TEXT ·sumAVX512(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

u5loop64:
	CMPQ   CX, $64
	JB     u5loop16
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	VADDPS 128(SI), Z2, Z2
	VADDPS 192(SI), Z3, Z3
	ADDQ   $256, SI
	SUBQ   $64, CX
	JMP    u5loop64

u5loop16:
	CMPQ   CX, $16
	JB     u5tail
	VADDPS (SI), Z0, Z0
	ADDQ   $64, SI
	SUBQ   $16, CX
	JMP    u5loop16

u5tail:
	TESTQ     CX, CX
	JZ        u5reduce
	TAILMASK
	VMOVUPS.Z (SI), K1, Z4
	VADDPS    Z4, Z1, Z1

u5reduce:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUMZ0
	VZEROUPPER
	MOVSS  X0, ret+24(FP)
	RET
