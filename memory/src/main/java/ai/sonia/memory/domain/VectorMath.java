package ai.sonia.memory.domain;

/**
 * The dot product of the exact vector scan. With the JDK's vector API in the JVM ({@code --add-modules
 * jdk.incubator.vector}, as {@code scripts/bench-memory} runs it) it uses the CPU's SIMD lanes (AVX2: 8 floats,
 * AVX-512: 16, each a fused multiply-add), several times faster than scalar code; without it, a scalar loop with
 * four independent sums. The two sum in a different order, so scores may differ in the last bits.
 */
final class VectorMath {

    private static final boolean SIMD = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /** {@code a · data[offset .. offset + dims)}. */
    static float dot(float[] a, float[] data, int offset, int dims) {
        return SIMD ? SimdDot.dot(a, data, offset, dims) : scalarDot(a, data, offset, dims);
    }

    /** Whether the SIMD path is in use (for the benchmark's report). */
    static boolean simd() {
        return SIMD;
    }

    static float scalarDot(float[] a, float[] data, int offset, int dims) {
        float sum0 = 0;
        float sum1 = 0;
        float sum2 = 0;
        float sum3 = 0;
        int i = 0;
        for (; i + 3 < dims; i += 4) {
            sum0 += a[i] * data[offset + i];
            sum1 += a[i + 1] * data[offset + i + 1];
            sum2 += a[i + 2] * data[offset + i + 2];
            sum3 += a[i + 3] * data[offset + i + 3];
        }
        for (; i < dims; i++) {
            sum0 += a[i] * data[offset + i];
        }
        return sum0 + sum1 + sum2 + sum3;
    }

    private VectorMath() {}
}
