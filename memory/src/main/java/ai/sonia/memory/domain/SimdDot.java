package ai.sonia.memory.domain;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The SIMD dot product; loaded only when the vector module is in the JVM ({@link VectorMath}). */
final class SimdDot {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    static float dot(float[] a, float[] data, int offset, int dims) {
        FloatVector sum = FloatVector.zero(SPECIES);
        final int bound = SPECIES.loopBound(dims);
        int i = 0;
        for (; i < bound; i += SPECIES.length()) {
            sum = FloatVector.fromArray(SPECIES, a, i).fma(FloatVector.fromArray(SPECIES, data, offset + i), sum);
        }
        float result = sum.reduceLanes(VectorOperators.ADD);
        for (; i < dims; i++) {
            result += a[i] * data[offset + i];
        }
        return result;
    }

    private SimdDot() {}
}
