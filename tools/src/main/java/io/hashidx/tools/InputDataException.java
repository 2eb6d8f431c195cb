package io.hashidx.tools;

/** Bad input data: an input file that cannot be read, or a bad line in it. Exit code 4. */
final class InputDataException extends RuntimeException {
    InputDataException(String message) {
        super(message);
    }

    InputDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
