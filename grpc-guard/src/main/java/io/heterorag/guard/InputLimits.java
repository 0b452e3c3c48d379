package io.heterorag.guard;

import java.util.Collection;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Bounds on request fields, checked before any work: a value over its limit is INVALID_ARGUMENT with a
 * message naming the field, its size, the limit and the configuration key that sets it (documented in
 * docs/limits-and-faults.md). Sizes are counted in characters (Java chars) or elements.
 */
public final class InputLimits {

    private InputLimits() {
    }

    /** A text field of at most {@code max} characters. */
    public static void chars(String field, String value, int max, String key) {
        if (value != null && value.length() > max) {
            throw invalid(field + " has " + value.length() + " characters, above the limit of " + max + " (" + key + ")");
        }
    }

    /** A repeated field of at most {@code max} elements. */
    public static void count(String field, int count, int max, String key) {
        if (count > max) {
            throw invalid(field + " has " + count + " elements, above the limit of " + max + " (" + key + ")");
        }
    }

    /** Each string of a repeated text field at most {@code max} characters. */
    public static void eachChars(String field, Collection<String> values, int max, String key) {
        int i = 0;
        for (String v : values) {
            chars(field + "[" + i++ + "]", v, max, key);
        }
    }

    /** A number in 0..max. */
    public static void range(String field, long value, long max, String key) {
        if (value < 0 || value > max) {
            throw invalid(field + " is " + value + ", outside 0.." + max + " (" + key + ")");
        }
    }

    public static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
