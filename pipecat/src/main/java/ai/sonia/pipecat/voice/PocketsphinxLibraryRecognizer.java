package ai.sonia.pipecat.voice;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

import ai.sonia.runtime.Threads;

/**
 * Debian's libpocketsphinx ({@code libpocketsphinx3} 0.8+5prealpha with {@code pocketsphinx-en-us}) in this
 * process, through JNA: one decoder per session, fed each frame as it arrives ({@code ps_process_raw}), its
 * best hypothesis so far read every {@link #PARTIAL_MILLIS} of audio and handed on as a partial transcript when
 * it changed, and the utterance's final words at its end ({@code ps_end_utt}, then {@code ps_get_hyp}): the
 * decoder has kept up with the speech, so the transcript is ready when speech ends. Cepstral normalization
 * carries over from one utterance to the next of a session, as with the process.
 *
 * <p>pocketsphinx is not thread-safe: each decoder has its own thread, and every native call for that decoder
 * (creation, decoding, freeing) runs on it. A decoder takes about 0.3 s to create and holds about 100 MB (the
 * acoustic model and the general language model; this version cannot share them between decoders), so one idle
 * decoder is kept for the next session ({@code maxIdle}); the others are freed when their session's connection
 * closes.
 *
 * <p>Vocabulary biasing ({@link Listening#context}): a trigram model of the session's context
 * ({@link ContextLanguageModel}) is interpolated with the general model ({@code ngram_model_set_init} with
 * weights: {@code contextWeight} for the context, the rest for the general model) and searched from the next
 * utterance on ({@code ps_set_lm} + {@code ps_set_search}); words the context holds become likelier, and every
 * other word of the general model can still be heard. The general model is shared with the decoder's own search,
 * not loaded again.
 */
public final class PocketsphinxLibraryRecognizer implements SpeechRecognizer {

    private static final Logger logger = LoggerFactory.getLogger(PocketsphinxLibraryRecognizer.class);

    /** How often the hypothesis is read while the user speaks (audio time). */
    static final long PARTIAL_MILLIS = 200;
    static final int DEFAULT_MAX_IDLE = 1;
    /** The context model's share of the interpolated model (docs/benchmarks/voice.md, fourth round). */
    public static final double DEFAULT_CONTEXT_WEIGHT = 0.5;
    // The decoder's own search, whose model is the general one (pocketsphinx's PS_DEFAULT_SEARCH).
    private static final String GENERAL_SEARCH = "_default";
    private static final String CONTEXT_SEARCH = "context";
    private static final int NGRAM_ARPA = 1; // ngram_file_type_t
    private static final int PARTIAL_SAMPLES = (int) (EnergyVad.SAMPLE_RATE * PARTIAL_MILLIS / 1000);
    // The decoder keeps up with speech on a machine with a core to spare, so the result is ready at once; on an
    // overloaded one it lags, and the right words a little later beat a truncated partial now.
    static final long RESULT_TIMEOUT_MILLIS = 10_000;
    /** Decoders created and not yet freed, across the process: what a leak would make grow. */
    static final AtomicInteger LIVE = new AtomicInteger();
    // Idle decoders by their arguments: a decoder made for one model serves only sessions wanting the same.
    private static final Map<List<String>, ArrayDeque<Decoder>> IDLE = new HashMap<>();

    private final List<String> arguments;
    private final long resultTimeoutMillis;
    private final int maxIdle;
    private final float contextWeight;

    /** The general en-us model, a wait of up to 10 s for a result, one idle decoder kept. */
    public PocketsphinxLibraryRecognizer() {
        this(List.of(), RESULT_TIMEOUT_MILLIS, DEFAULT_MAX_IDLE);
    }

    /**
     * With pocketsphinx options of its own, name-value pairs as on its command line ({@code -lm} replaces the
     * model, {@code -dict} the dictionary), a wait for a result, and how many idle decoders to keep (0: each is freed with its session).
     */
    public PocketsphinxLibraryRecognizer(List<String> options, long resultTimeoutMillis, int maxIdle) {
        this(options, resultTimeoutMillis, maxIdle, DEFAULT_CONTEXT_WEIGHT);
    }

    /**
     * As above, with the context model's share of the interpolated model when a session gives a context (0: the
     * context is ignored; 1 would hear only the context's words).
     */
    public PocketsphinxLibraryRecognizer(List<String> options, long resultTimeoutMillis, int maxIdle,
                                         double contextWeight) {
        if (!(contextWeight >= 0 && contextWeight < 1)) {
            throw new IllegalArgumentException("contextWeight must be in [0, 1): " + contextWeight);
        }
        this.contextWeight = (float) contextWeight;
        if (options.size() % 2 != 0) {
            throw new IllegalArgumentException("pocketsphinx options come in name-value pairs: " + options);
        }
        final List<String> args = new ArrayList<>(List.of(
                "-hmm", PocketsphinxRecognizer.MODEL.resolve("en-us").toString()));
        if (!options.contains("-dict")) {
            args.addAll(List.of("-dict", PocketsphinxRecognizer.MODEL.resolve("cmudict-en-us.dict").toString()));
        }
        if (!options.contains("-lm")) {
            args.addAll(List.of("-lm", PocketsphinxRecognizer.MODEL.resolve("en-us.lm.bin").toString()));
        }
        args.addAll(options);
        this.arguments = List.copyOf(args);
        this.resultTimeoutMillis = resultTimeoutMillis;
        this.maxIdle = maxIdle;
    }

    /** Native decoders in this process, in use or idle (each is freed beyond the idle ones kept). */
    public static int decoders() {
        return LIVE.get();
    }

    /** Idle native decoders kept for the next sessions, across recognizers. */
    public static int idleDecoders() {
        synchronized (IDLE) {
            return IDLE.values().stream().mapToInt(ArrayDeque::size).sum();
        }
    }

    /** What is missing for this recognizer (the library, through JNA, or the model), or empty when nothing. */
    static Optional<String> missing() {
        if (Binding.SPHINX == null) {
            return Optional.of("libpocketsphinx not loadable (" + Binding.ERROR + ")");
        }
        if (!Files.isDirectory(PocketsphinxRecognizer.MODEL.resolve("en-us"))) {
            return Optional.of("no en-us model in " + PocketsphinxRecognizer.MODEL);
        }
        return Optional.empty();
    }

    @Override
    public Listening listen() throws IOException {
        return listen(partial -> {});
    }

    @Override
    public Listening listen(Consumer<String> partials) throws IOException {
        if (Binding.SPHINX == null) {
            throw new IOException("libpocketsphinx not loadable (" + Binding.ERROR + ")");
        }
        Decoder decoder;
        synchronized (IDLE) {
            final ArrayDeque<Decoder> idle = IDLE.get(arguments);
            decoder = idle == null ? null : idle.pollFirst();
        }
        if (decoder == null) {
            decoder = new Decoder(arguments);
        }
        return new Utterances(decoder, partials);
    }

    // Back to the idle set, or freed when it is full; on the decoder's thread, after its session's last call.
    private void release(Decoder decoder) {
        synchronized (IDLE) {
            final ArrayDeque<Decoder> idle = IDLE.computeIfAbsent(arguments, a -> new ArrayDeque<>());
            if (decoder.ready() && idle.size() < maxIdle) {
                idle.addLast(decoder);
                return;
            }
        }
        decoder.free();
    }

    /** One session's use of a decoder; calls come from one thread at a time, the work runs on the decoder's. */
    private final class Utterances implements Listening {
        private final Decoder decoder;
        private final Consumer<String> partials;
        // On the decoder's thread only: samples since the hypothesis was last read, and what it said.
        private int sinceHypothesis;
        // Read on the caller's thread: the hypothesis so far, and the one read at the last pause (null till then).
        private volatile String hypothesis = "";
        private volatile String atPause;
        // After close the decoder may serve another session: nothing more is queued for this one.
        private boolean closed;

        Utterances(Decoder decoder, Consumer<String> partials) {
            this.decoder = decoder;
            this.partials = partials;
        }

        @Override
        public synchronized void speech(byte[] pcm) {
            if (closed) {
                return;
            }
            final short[] samples = new short[pcm.length / 2];
            for (int i = 0; i < samples.length; i++) {
                samples[i] = (short) ((pcm[2 * i] & 0xff) | (pcm[2 * i + 1] << 8));
            }
            decoder.run(sphinx -> {
                if (!decoder.inUtterance) {
                    decoder.start(sphinx);
                    sinceHypothesis = 0;
                    hypothesis = "";
                }
                sphinx.ps_process_raw(decoder.ps, samples, new NativeLong(samples.length), 0, 0);
                sinceHypothesis += samples.length;
                if (sinceHypothesis >= PARTIAL_SAMPLES) {
                    sinceHypothesis = 0;
                    final String words = words(sphinx.ps_get_hyp(decoder.ps, null));
                    if (!words.isEmpty() && !words.equals(hypothesis)) {
                        hypothesis = words;
                        try {
                            partials.accept(words);
                        } catch (RuntimeException e) {
                            logger.warn("A partial transcript's listener failed", e);
                        }
                    }
                }
            });
        }

        // Everything fed up to the pause is decoded before this reads the words.
        @Override
        public synchronized void pause() {
            atPause = null;
            if (closed) {
                return;
            }
            decoder.run(sphinx -> atPause = decoder.inUtterance ? words(sphinx.ps_get_hyp(decoder.ps, null)) : "");
        }

        @Override
        public boolean phraseComplete() {
            final String words = atPause;
            return words != null && !words.isEmpty() && Phrases.complete(words);
        }

        // Written here, read on the decoder's thread; the decoder goes back to the general model when released.
        @Override
        public synchronized void context(List<String> sentences) {
            if (closed || contextWeight == 0) {
                return;
            }
            final java.util.Set<String> known = PocketsphinxRecognizer.dictionary();
            // No known word: no context model (the general one alone).
            final String arpa = sentences.stream().allMatch(t -> ContextLanguageModel.words(t, known::contains).isEmpty())
                    ? null : ContextLanguageModel.arpa(sentences, known::contains);
            decoder.run(sphinx -> decoder.bias(sphinx, arpa, contextWeight));
        }

        @Override
        public synchronized CompletableFuture<String> end() {
            final CompletableFuture<String> result = new CompletableFuture<>();
            if (closed) {
                return CompletableFuture.failedFuture(new IOException("the recognizer is closed"));
            }
            final boolean queued = decoder.run(sphinx -> {
                if (!decoder.inUtterance) {
                    result.complete("");
                    return;
                }
                decoder.inUtterance = false;
                sphinx.ps_end_utt(decoder.ps);
                final String words = words(sphinx.ps_get_hyp(decoder.ps, null));
                hypothesis = words;
                result.complete(words);
                decoder.afterUtterance();
            }, result);
            if (!queued) {
                return result;
            }
            // A decoder far behind the audio (a loaded machine): the words it has so far, not nothing.
            return result.orTimeout(resultTimeoutMillis, TimeUnit.MILLISECONDS)
                         .exceptionallyCompose(e -> e instanceof TimeoutException
                                                    ? CompletableFuture.completedFuture(hypothesis)
                                                    : CompletableFuture.failedFuture(e));
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            decoder.finish(PocketsphinxLibraryRecognizer.this::release);
        }
    }

    private static String words(String hypothesis) {
        return hypothesis == null ? "" : hypothesis.strip();
    }

    /** A native decoder and the one thread that may touch it. */
    private static final class Decoder {
        private final ExecutorService thread = Executors.newSingleThreadExecutor(Threads.factory("pocketsphinx-decoder"));
        // Touched on `thread` only.
        private Pointer config;
        private Pointer ps;
        private boolean inUtterance;
        // A context that came during an utterance, set when it ends.
        private Runnable pendingBias;
        private volatile String failure;

        Decoder(List<String> arguments) {
            thread.execute(() -> {
                final Sphinx sphinx = Binding.SPHINX;
                final Object[] varargs = new Object[arguments.size() + 1]; // NULL-terminated
                arguments.toArray(varargs);
                config = sphinx.cmd_ln_init(null, sphinx.ps_args(), 1, varargs);
                ps = config == null ? null : sphinx.ps_init(config);
                if (ps != null) {
                    LIVE.incrementAndGet();
                    return;
                }
                failure = "pocketsphinx could not start a decoder with " + arguments;
                logger.warn(failure);
                if (config != null) {
                    sphinx.cmd_ln_free_r(config);
                    config = null;
                }
            });
        }

        boolean ready() {
            return failure == null;
        }

        void afterUtterance() {
            if (pendingBias != null) {
                pendingBias.run();
            }
        }

        void start(Sphinx sphinx) {
            sphinx.ps_start_utt(ps);
            inUtterance = true;
        }

        /**
         * Searches with the general model interpolated with a model of {@code arpa} from the next utterance on,
         * or with the general model alone when it is null (or the context has no known word). On the decoder's
         * thread, between utterances or in one (then it takes effect at the next).
         */
        void bias(Sphinx sphinx, String arpa, float weight) {
            if (inUtterance) {
                pendingBias = () -> bias(sphinx, arpa, weight);
                return;
            }
            pendingBias = null;
            Pointer set = null;
            if (arpa != null) {
                set = interpolated(sphinx, arpa, weight);
            }
            if (set == null) {
                sphinx.ps_set_search(ps, GENERAL_SEARCH);
                return;
            }
            // The search holds its own reference to the set; a search of the same name is replaced and freed.
            final int added = sphinx.ps_set_lm(ps, CONTEXT_SEARCH, set);
            sphinx.ngram_model_free(set);
            if (added != 0) {
                logger.warn("pocketsphinx could not search with the context model; the general model alone is used");
            }
            sphinx.ps_set_search(ps, added == 0 ? CONTEXT_SEARCH : GENERAL_SEARCH);
        }

        private Pointer interpolated(Sphinx sphinx, String arpa, float weight) {
            // A default search that is not an n-gram one has no general model to interpolate with, and
            // ngram_model_set_init would dereference the null one (a crash); -lm is always given, so a guard.
            final Pointer general = sphinx.ps_get_lm(ps, GENERAL_SEARCH);
            if (general == null) {
                logger.warn("The decoder's search has no n-gram model; the session's context is not used");
                return null;
            }
            java.nio.file.Path file = null;
            try {
                file = Files.createTempFile("sonia-context-", ".arpa");
                Files.writeString(file, arpa);
                final Pointer context = sphinx.ngram_model_read(config, file.toString(), NGRAM_ARPA,
                                                                sphinx.ps_get_logmath(ps));
                if (context == null) {
                    logger.warn("pocketsphinx could not read a context model");
                    return null;
                }
                // The set holds its own references to both models.
                final Pointer set = sphinx.ngram_model_set_init(config, new Pointer[] {general, context},
                                                                new String[] {"general", "context"},
                                                                new float[] {1 - weight, weight}, 2);
                sphinx.ngram_model_free(context);
                if (set == null) {
                    logger.warn("pocketsphinx could not interpolate the context model; the general model alone is used");
                }
                return set;
            } catch (IOException e) {
                logger.warn("The context model could not be written", e);
                return null;
            } finally {
                if (file != null) {
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException e) {
                        logger.warn("A context model file could not be deleted", e);
                    }
                }
            }
        }

        /** Runs a call on the decoder's thread when the decoder exists; false when it could not be queued. */
        boolean run(Call call) {
            return run(call, null);
        }

        // A decoder that failed, or a call that failed, completes `result` (when given) with an IOException.
        boolean run(Call call, CompletableFuture<String> result) {
            try {
                thread.execute(() -> {
                    if (ps == null) {
                        if (result != null) {
                            result.completeExceptionally(new IOException(failure == null ? "decoder freed" : failure));
                        }
                        return;
                    }
                    try {
                        call.on(Binding.SPHINX);
                    } catch (RuntimeException | Error e) {
                        // Whatever a call throws (JNA's Error included), the session's wait ends now, not at
                        // its timeout, and the thread lives on for the calls after it.
                        logger.warn("pocketsphinx call failed", e);
                        if (result != null) {
                            result.completeExceptionally(new IOException("pocketsphinx failed: " + e, e));
                        }
                    }
                });
                return true;
            } catch (RejectedExecutionException e) {
                if (result != null) {
                    result.completeExceptionally(new IOException("the recognizer is closed"));
                }
                return false;
            }
        }

        /** Ends any utterance, then hands the decoder to {@code release}; on its thread, after the calls before. */
        void finish(Consumer<Decoder> release) {
            thread.execute(() -> {
                if (ps != null && inUtterance) {
                    inUtterance = false;
                    Binding.SPHINX.ps_end_utt(ps);
                }
                if (ps != null) { // the next session starts without this one's context
                    pendingBias = null;
                    Binding.SPHINX.ps_set_search(ps, GENERAL_SEARCH);
                }
                release.accept(this);
            });
        }

        // Frees the native decoder and ends the thread; on the decoder's thread.
        void free() {
            if (ps != null) {
                Binding.SPHINX.ps_free(ps);
                Binding.SPHINX.cmd_ln_free_r(config);
                ps = null;
                config = null;
                LIVE.decrementAndGet();
            }
            thread.shutdown();
        }
    }

    /** A call made on a decoder's thread. */
    private interface Call {
        void on(Sphinx sphinx);
    }

    /** The library, loaded once; null with the reason when it cannot be. */
    private static final class Binding {
        static final Sphinx SPHINX;
        static final String ERROR;

        static {
            Sphinx loaded = null;
            String error = null;
            try {
                loaded = Native.load("pocketsphinx", Sphinx.class);
                // Its log is one FILE for the whole process: a decoder made with "-logfn" closes it and opens
                // another while other decoders' threads write to it (a use after free that aborted the JVM).
                // Logging is switched off once, here, before any decoder exists; no decoder names a log file.
                loaded.err_set_logfp(null);
            } catch (LinkageError | RuntimeException e) {
                error = e.getMessage();
            }
            SPHINX = loaded;
            ERROR = error;
        }
    }

    /**
     * The C calls used, as declared in {@code pocketsphinx.h} and {@code cmd_ln.h} of 0.8+5prealpha (Debian ships
     * no headers without the -dev packages): {@code cmd_ln_*} come from libsphinxbase, which libpocketsphinx
     * links, so its symbols resolve through it.
     */
    interface Sphinx extends Library {
        Pointer ps_args();

        /** {@code cmd_ln_t *cmd_ln_init(cmd_ln_t *inout, const arg_t *defn, int32 strict, ...)}: name-value pairs, then NULL. */
        Pointer cmd_ln_init(Pointer inout, Pointer definitions, int strict, Object... arguments);

        int cmd_ln_free_r(Pointer config);

        Pointer ps_init(Pointer config);

        int ps_start_utt(Pointer ps);

        /** {@code int ps_process_raw(ps_decoder_t *ps, int16 const *data, size_t n_samples, int no_search, int full_utt)}. */
        int ps_process_raw(Pointer ps, short[] data, NativeLong samples, int noSearch, int fullUtterance);

        /** {@code char const *ps_get_hyp(ps_decoder_t *ps, int32 *out_best_score)}: owned by the decoder. */
        String ps_get_hyp(Pointer ps, Pointer bestScore);

        int ps_end_utt(Pointer ps);

        int ps_free(Pointer ps);

        Pointer ps_get_logmath(Pointer ps);

        /** {@code ngram_model_t *ps_get_lm(ps_decoder_t *ps, const char *name)}: owned by the search. */
        Pointer ps_get_lm(Pointer ps, String name);

        /** {@code int ps_set_lm(ps_decoder_t *ps, const char *name, ngram_model_t *lm)}: the search retains it. */
        int ps_set_lm(Pointer ps, String name, Pointer lm);

        int ps_set_search(Pointer ps, String name);

        /** {@code ngram_model_t *ngram_model_read(cmd_ln_t *config, const char *file, ngram_file_type_t type, logmath_t *lmath)}. */
        Pointer ngram_model_read(Pointer config, String file, int type, Pointer logmath);

        /**
         * {@code ngram_model_t *ngram_model_set_init(cmd_ln_t *config, ngram_model_t **models, char **names,
         * const float32 *weights, int32 n_models)}: with weights, the models are interpolated; each is retained.
         */
        Pointer ngram_model_set_init(Pointer config, Pointer[] models, String[] names, float[] weights, int count);

        int ngram_model_free(Pointer model);

        /** {@code void err_set_logfp(FILE *stream)} of libsphinxbase: NULL switches its log off, process-wide. */
        void err_set_logfp(Pointer stream);
    }
}
