package ai.sonia.memory.domain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

import ai.sonia.memory.domain.MemoryIndex.Scored;

/**
 * One tenant's unit vectors in one flat array, searched by an exact scan of dot products (cosine on unit
 * vectors). Not thread-safe: {@link VectorIndex} guards it.
 */
final class TenantVectors {

    private final int dims;
    private long[] ids = new long[64];
    private float[] data;
    private final Map<Long, Integer> positions = new HashMap<>();
    private int size;

    TenantVectors(int dims) {
        this.dims = dims;
        data = new float[64 * dims];
    }

    boolean contains(long id) {
        return positions.containsKey(id);
    }

    int size() {
        return size;
    }

    void add(long id, float[] vector) {
        if (vector.length != dims || positions.containsKey(id)) {
            return;
        }
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
            data = Arrays.copyOf(data, size * 2 * dims);
        }
        ids[size] = id;
        System.arraycopy(vector, 0, data, size * dims, dims);
        positions.put(id, size);
        size++;
    }

    /** Removes by moving the last vector into the hole. */
    void remove(long id) {
        final Integer position = positions.remove(id);
        if (position == null) {
            return;
        }
        final int last = --size;
        if (position != last) {
            ids[position] = ids[last];
            System.arraycopy(data, last * dims, data, position * dims, dims);
            positions.put(ids[position], position);
        }
    }

    float[] vectorAt(int position) {
        return Arrays.copyOfRange(data, position * dims, (position + 1) * dims);
    }

    /** A copy to read without the index's lock. */
    TenantVectors copy() {
        final TenantVectors copy = new TenantVectors(dims);
        copy.ids = Arrays.copyOf(ids, size);
        copy.data = Arrays.copyOf(data, size * dims);
        copy.size = size;
        return copy;
    }

    long idAt(int position) {
        return ids[position];
    }

    /** The {@code k} nearest by exact scan, best first. */
    List<Scored> nearest(float[] query, int k) {
        final PriorityQueue<Scored> top = new PriorityQueue<>(k + 1, (a, b) -> Float.compare(a.score(), b.score()));
        for (int i = 0; i < size; i++) {
            final float score = dot(query, data, i * dims, dims);
            if (top.size() < k) {
                top.add(new Scored(ids[i], score));
            } else if (score > top.peek().score()) {
                top.poll();
                top.add(new Scored(ids[i], score));
            }
        }
        final List<Scored> best = new ArrayList<>(top);
        best.sort((a, b) -> Float.compare(b.score(), a.score()));
        return best;
    }

    static float dot(float[] a, float[] data, int offset, int dims) {
        return VectorMath.dot(a, data, offset, dims);
    }
}
