package io.hashidx.tools;

/**
 * An error the tool itself finds, outside the index (bad load input, a file that cannot be renamed,
 * ...). {@link Main} prints its message as one line on stderr and exits with {@link Main#ERROR}.
 */
class ToolFailure extends RuntimeException {
    ToolFailure(String message) {
        super(message);
    }

    ToolFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
