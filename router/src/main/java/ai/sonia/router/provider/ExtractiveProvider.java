package ai.sonia.router.provider;

import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.sonia.router.domain.ChatCall;
import ai.sonia.router.domain.ChatProvider;
import ai.sonia.router.domain.Completion;
import ai.sonia.router.domain.Deployment;
import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.FinishReason;
import ai.sonia.router.v1.Role;

/**
 * The built-in provider that needs no model and no network: it answers by quoting the sentences of the
 * request's context (the memories the gateway recalled) that best match the last user message, ranked
 * by BM25, and says plainly that this is an extractive answer, not a generated one.
 */
public final class ExtractiveProvider implements ChatProvider {

    /** The provider name in config. */
    public static final String NAME = "extractive";
    static final String MODEL = "extractive-bm25";
    private static final int MAX_QUOTES = 3;
    private static final Pattern PIECE = Pattern.compile("\\S+\\s*");

    private final Bm25SentenceRanker ranker = new Bm25SentenceRanker();

    @Override
    public Completion chat(Deployment deployment, ChatCall call) {
        final String question = lastUserMessage(call.messages());
        final String answer = answer(question, call);
        final long words = wordCount(answer);
        if (call.maxTokens() > 0 && words > call.maxTokens()) {
            // Held to max_tokens like any model, so a budget reservation is never outgrown.
            final String cut = firstPieces(answer, call.maxTokens());
            return new Completion(cut, List.of(), FinishReason.FINISH_REASON_LENGTH, MODEL, promptTokens(call), call.maxTokens());
        }
        return new Completion(answer, List.of(), FinishReason.FINISH_REASON_STOP, MODEL, promptTokens(call), words);
    }

    @Override
    public Completion stream(Deployment deployment, ChatCall call, Consumer<String> onDelta) {
        final Completion completion = chat(deployment, call);
        final Matcher pieces = PIECE.matcher(completion.content());
        while (pieces.find()) {
            onDelta.accept(pieces.group());
        }
        return completion;
    }

    private String answer(String question, ChatCall call) {
        if (call.context().isEmpty()) {
            return "No language model is reachable, and I was given nothing to quote from, so I cannot answer this "
                   + "extractively. Configure Ollama (OLLAMA_BASE_URL) or an API key for a generated answer.";
        }
        final List<Bm25SentenceRanker.Ranked> quotes = ranker.rank(question, call.context(), MAX_QUOTES);
        if (quotes.isEmpty()) {
            return "No language model is reachable, and none of the " + call.context().size()
                   + " passages I was given shares a term with your question, so I cannot answer it extractively.";
        }
        final StringBuilder text = new StringBuilder(
                "No language model is reachable, so I am answering extractively, without an LLM: these are the "
                + "passages of what I was given that best match your question, quoted as they are.\n");
        for (Bm25SentenceRanker.Ranked quote : quotes) {
            text.append("\n> ").append(quote.sentence());
            if (!quote.source().isEmpty()) {
                text.append("\n  (").append(quote.source()).append(')');
            }
        }
        return text.toString();
    }

    private static String lastUserMessage(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).getRole() == Role.ROLE_USER) {
                return messages.get(i).getContent();
            }
        }
        return "";
    }

    private static String firstPieces(String text, int count) {
        final Matcher pieces = PIECE.matcher(text);
        int end = 0;
        for (int i = 0; i < count && pieces.find(); i++) {
            end = pieces.end();
        }
        return text.substring(0, end);
    }

    private static long promptTokens(ChatCall call) {
        long words = 0;
        for (ChatMessage m : call.messages()) {
            words += wordCount(m.getContent());
        }
        for (var passage : call.context()) {
            words += wordCount(passage.getText());
        }
        return words;
    }

    private static long wordCount(String text) {
        final Matcher pieces = PIECE.matcher(text);
        long count = 0;
        while (pieces.find()) {
            count++;
        }
        return count;
    }
}
