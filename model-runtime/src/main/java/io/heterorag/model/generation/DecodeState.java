package io.heterorag.model.generation;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * One request being decoded: its prompt, its sampler state, the constraint trie cursor, the
 * streaming text and the tokens so far. The decode loop (batched or not) asks it for the next token
 * given a row of logits and tells it which token was taken; it says when the request is finished.
 * Text to stream and the final result go to {@link #events}, which the calling thread drains.
 */
final class DecodeState {

    final FamilyAdapter.Prepared prompt;
    final float[] promptEmbeds;
    final DecodingOptions options;
    private final int maxNewTokens;
    private final int[] eos;
    private final SplittableRandom rng;
    private final BitSet seen = new BitSet();
    private final StreamingText text;
    private final List<String> choices;
    private ChoiceTrie.Node node;
    private final TokenConstraint constraint;
    private int[] generated = new int[16];
    private int count;
    private String finishReason;
    private Generation result;
    private int choice = -1;
    final long startNanos;
    private long firstTokenNanos = -1;
    /** Text chunks (String), then a Generation or a RuntimeException. */
    final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    volatile boolean cancelled;

    DecodeState(FamilyAdapter.Prepared prompt, float[] promptEmbeds, DecodingOptions options, int maxNewTokens, int[] eos,
            ChoiceTrie trie, Function<int[], String> decode, long startNanos) {
        this(prompt, promptEmbeds, options, maxNewTokens, eos, trie, null, decode, startNanos);
    }

    /** @param constraint when not null, the tokens allowed at each step (a grammar); not together with a trie */
    DecodeState(FamilyAdapter.Prepared prompt, float[] promptEmbeds, DecodingOptions options, int maxNewTokens, int[] eos,
            ChoiceTrie trie, TokenConstraint constraint, Function<int[], String> decode, long startNanos) {
        this.constraint = constraint;
        this.prompt = prompt;
        this.promptEmbeds = promptEmbeds;
        this.options = options;
        this.maxNewTokens = maxNewTokens;
        this.eos = eos;
        this.rng = new SplittableRandom(options.seed());
        this.choices = options.choices();
        this.node = trie == null ? null : trie.root();
        this.text = new StreamingText(decode, trie == null ? options.stop() : List.of());
        this.startNanos = startNanos;
        for (int id : prompt.ids()) {
            seen.set(id);
        }
    }

    int choose(float[] logits, int offset, int vocab) {
        float[] row = Arrays.copyOfRange(logits, offset, offset + vocab);
        int[] allowed = node != null ? node.allowed() : constraint != null ? constraint.allowed(tokens(), maxNewTokens - count) : null;
        return Sampler.pick(row, options, rng, seen, allowed);
    }

    /** Takes the chosen token; returns true when the request is finished (then {@link #result} is set). */
    boolean accept(int token) {
        if (firstTokenNanos < 0) {
            firstTokenNanos = System.nanoTime() - startNanos;
        }
        if (node != null) {
            node = node.next(token);
            if (node == null) {
                throw new IllegalStateException("constrained decoding took a token outside the choices: " + token);
            }
            if (node.isLeaf()) {
                choice = node.choice;
                return finish("closed");
            }
            append(token);
            ChoiceTrie.Node end = node.next(eos[0]);
            if (count >= maxNewTokens && end != null) {
                // out of budget on a complete choice: the end token is implied
                choice = end.choice;
                return finish("closed");
            }
        } else {
            if (isEos(token)) {
                return finish("eos");
            }
            append(token);
            String chunk = text.update(tokens());
            if (!chunk.isEmpty()) {
                events.add(chunk);
            }
            if (text.stopped()) {
                return finish("stop");
            }
        }
        return count >= maxNewTokens && finish("length");
    }

    /** The token to feed at the next step (the last one taken). */
    int last() {
        return generated[count - 1];
    }

    int[] tokens() {
        return Arrays.copyOf(generated, count);
    }

    /** Sequence index of the last taken token (its position is this + the prompt's delta). */
    int lastIndex() {
        return prompt.ids().length + count - 1;
    }

    boolean finished() {
        return finishReason != null;
    }

    void fail(RuntimeException e) {
        finishReason = "error";
        events.add(e);
    }

    private boolean isEos(int token) {
        for (int e : eos) {
            if (e == token) {
                return true;
            }
        }
        return false;
    }

    private void append(int token) {
        if (count == generated.length) {
            generated = Arrays.copyOf(generated, count * 2);
        }
        generated[count++] = token;
        seen.set(token);
    }

    private boolean finish(String reason) {
        finishReason = reason;
        String out;
        if (reason.equals("closed")) {
            out = choices.get(choice);
            events.add(out);
        } else if (node != null) {
            // ran out of tokens before a choice was complete: the partial text is all there is
            text.update(tokens());
            out = text.text();
            if (!out.isEmpty()) {
                events.add(out);
            }
        } else {
            String rest = text.flush();
            if (!rest.isEmpty()) {
                events.add(rest);
            }
            out = text.text();
        }
        long total = System.nanoTime() - startNanos;
        result = new Generation(out, tokens(), prompt.ids().length, reason, firstTokenNanos, total);
        return true;
    }

    /** The finished generation (null while decoding). */
    Generation result() {
        return result;
    }

    /** Hands the finished generation to the caller (after the decode loop's own bookkeeping). */
    void complete() {
        events.add(result);
    }
}
