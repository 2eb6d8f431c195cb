package io.hashidx.tools;

/** Bad load input: an input file that cannot be read, or a bad line in it. Exit code 2. */
final class InputDataException extends ToolFailure {
    InputDataException(String message) {
        super(message);
    }

    InputDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
