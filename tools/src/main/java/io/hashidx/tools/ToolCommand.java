package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import io.hashidx.store.HashIndexException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every command shares: the {@code out} and {@code err} writers that {@link Main#run} hands to
 * picocli, and a way to report a usage error (exit code 2) found after parsing.
 */
abstract class ToolCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Results: values, summaries, reports. */
    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Errors, "not found" notes and progress. */
    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** A usage error found after parsing (a bad hex string, widths that contradict the file, ...). */
    ParameterException usageError(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /**
     * Options for a new file: fixed widths when both are given, variable lengths when neither is; one
     * without the other is a usage error.
     */
    io.hashidx.store.Options widthsOrVariable(Integer keySize, Integer valueSize) {
        if (keySize == null && valueSize == null) {
            return io.hashidx.store.Options.variableLengths();
        }
        if (keySize == null || valueSize == null) {
            throw usageError("give both --key-size and --value-size for a fixed-width file, or neither for "
                    + "variable lengths");
        }
        return io.hashidx.store.Options.widths(keySize, valueSize);
    }

    /**
     * Opens {@code file} read-only. Another process may be writing it: reads follow that writer and
     * never see a value half written. Refused (HIDX-004) only where the reader table beside the file
     * cannot be used and a writer is at work; the store's message says why.
     */
    HashIndex openForReading(Path file) {
        return HashIndex.openReadOnly(file);
    }

    /**
     * Runs a whole-file scan ({@code inspect}, {@code verify}, {@code compact}) that needs the file to
     * hold still. A file that another process is writing is refused, because the scan could see a change
     * half made; the message says so and what to do, instead of the store's advice.
     */
    <T> T whileNobodyWrites(Path file, Supplier<T> scan) {
        try {
            return scan.get();
        } catch (HashIndexException.Locked e) {
            throw new ToolFailure(e.code().id() + " locked: " + file + ": another process has the file open for "
                    + "writing, and '" + spec.qualifiedName() + "' reads a file only while nobody writes it (so "
                    + "that it never sees a change half made); run it again once the writer has closed the file, "
                    + "or run it on a copy made with 'hashidx backup'", e);
        }
    }

    /** Parses KEY arguments as UTF-8 text or hex; a bad one is a usage error. */
    byte[][] parseKeys(List<String> keys, boolean hex) {
        byte[][] parsed = new byte[keys.size()][];
        for (int i = 0; i < parsed.length; i++) {
            try {
                parsed[i] = ByteStrings.fromArgument(keys.get(i), hex);
            } catch (IllegalArgumentException e) {
                throw usageError("KEY " + e.getMessage());
            }
        }
        return parsed;
    }

    /** Names a missing key on stderr, saying why when it is longer than the file's key width. */
    void reportNotFound(String shownKey, byte[] key, HashIndex idx) {
        String tooLong = key.length > idx.maxKeyLength()
                ? " (" + key.length + " bytes, longer than the file's key width of " + idx.maxKeyLength() + " bytes)"
                : "";
        err().println("not found: " + shownKey + tooLong);
    }
}
