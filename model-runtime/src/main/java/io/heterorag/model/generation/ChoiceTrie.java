package io.heterorag.model.generation;

import java.util.List;
import java.util.TreeMap;

/**
 * Constrained decoding for closed questions: a trie of each choice's token ids followed by the end
 * token. At every step only the children of the current node may be picked, so the output is always
 * one of the choices; reaching a leaf (the end token) names which one.
 */
final class ChoiceTrie {

    static final class Node {
        final TreeMap<Integer, Node> children = new TreeMap<>();
        /** Index of the choice that ends here (leaves only); the first of equal token sequences wins. */
        int choice = -1;

        int[] allowed() {
            return children.keySet().stream().mapToInt(Integer::intValue).toArray();
        }

        Node next(int token) {
            return children.get(token);
        }

        boolean isLeaf() {
            return children.isEmpty();
        }
    }

    private final Node root = new Node();

    /** @param choices each choice's token ids; {@code end} is appended to every one */
    ChoiceTrie(List<int[]> choices, int end) {
        for (int c = 0; c < choices.size(); c++) {
            Node n = root;
            for (int t : choices.get(c)) {
                if (t == end) {
                    throw new IllegalArgumentException("choice " + c + " contains the end token " + end);
                }
                n = n.children.computeIfAbsent(t, k -> new Node());
            }
            n = n.children.computeIfAbsent(end, k -> new Node());
            if (n.choice < 0) {
                n.choice = c;
            }
        }
    }

    Node root() {
        return root;
    }
}
