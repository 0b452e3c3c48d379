package io.heterorag.model.image;

/** The bytes are not an image the platform can read; the message says why (no pixel data in it). */
public class InvalidImageException extends IllegalArgumentException {

    public InvalidImageException(String message) {
        super(message);
    }
}
