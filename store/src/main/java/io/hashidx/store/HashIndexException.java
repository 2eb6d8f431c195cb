package io.hashidx.store;

import java.nio.file.Path;

/**
 * The one family of errors a hash index throws. Every error carries a stable {@link Code} (safe to
 * match on in scripts and logs) and a message that names the file and what to do about it.
 *
 * <p>The hierarchy is sealed and small: callers who want to react to a class of problem catch one
 * of the five subclasses; everyone else catches this type.
 */
public abstract sealed class HashIndexException extends RuntimeException
        permits HashIndexException.FileFormat,
                HashIndexException.Locked,
                HashIndexException.TooLong,
                HashIndexException.Storage,
                HashIndexException.State {

    /** Stable error codes. The string form ({@link #id()}) never changes once released. */
    public enum Code {
        NOT_HASHIDX_FILE("HIDX-001"),
        UNSUPPORTED_VERSION("HIDX-002"),
        CORRUPT("HIDX-003"),
        LOCKED("HIDX-004"),
        KEY_TOO_LONG("HIDX-005"),
        VALUE_TOO_LONG("HIDX-006"),
        DISK_FULL("HIDX-007"),
        CLOSED("HIDX-008"),
        READ_ONLY("HIDX-009"),
        IO("HIDX-010"),
        INVALID_ARGUMENT("HIDX-011");

        private final String id;

        Code(String id) {
            this.id = id;
        }

        /** The stable identifier, e.g. {@code HIDX-004}. */
        public String id() {
            return id;
        }
    }

    private final Code code;
    private final Path file;

    HashIndexException(Code code, Path file, String message, Throwable cause) {
        super(code.id() + " " + code.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                + ": " + (file == null ? "" : file + ": ") + message, cause);
        this.code = code;
        this.file = file;
    }

    /** The stable error code. */
    public Code code() {
        return code;
    }

    /** The index file concerned, or null when the error is not about one file. */
    public Path file() {
        return file;
    }

    /** Not a hashidx file, a file from a newer format version, or a corrupt or truncated file. */
    public static final class FileFormat extends HashIndexException {
        private final long offset;

        FileFormat(Code code, Path file, long offset, String message) {
            super(code, file, message, null);
            this.offset = offset;
        }

        /** Byte offset in the file where the problem was found, or -1. */
        public long offset() {
            return offset;
        }
    }

    /** Another process, or another open handle in this JVM, holds the file. */
    public static final class Locked extends HashIndexException {
        Locked(Path file, String message) {
            super(Code.LOCKED, file, message, null);
        }
    }

    /** A key or value longer than the file's fixed width. */
    public static final class TooLong extends HashIndexException {
        TooLong(Code code, Path file, String message) {
            super(code, file, message, null);
        }
    }

    /** The disk is full, or another I/O error stopped an operation; the index stays usable. */
    public static final class Storage extends HashIndexException {
        Storage(Code code, Path file, String message, Throwable cause) {
            super(code, file, message, cause);
        }
    }

    /** The index is closed, opened read-only, or was called with an invalid argument. */
    public static final class State extends HashIndexException {
        State(Code code, Path file, String message) {
            super(code, file, message, null);
        }
    }

    // ---- factories used inside the package: one place for every message ----

    static FileFormat notHashIndex(Path file, String why) {
        return new FileFormat(Code.NOT_HASHIDX_FILE, file, 0,
                "not a hashidx index file (" + why + "); check the path, or create a new index with `hashidx create`");
    }

    static FileFormat unsupportedVersion(Path file, long found, long supported, boolean forWriting) {
        return new FileFormat(Code.UNSUPPORTED_VERSION, file, 0,
                "file format " + (forWriting ? "write" : "read") + " version " + found
                        + " is newer than this hashidx supports (" + supported + "); upgrade hashidx"
                        + (forWriting ? ", or open the file read-only" : ""));
    }

    static FileFormat corrupt(Path file, long offset, String what) {
        return new FileFormat(Code.CORRUPT, file, offset,
                "corrupt at offset " + offset + ": " + what
                        + "; run `hashidx verify` for details and restore the file from a backup");
    }

    static Locked locked(Path file, String who) {
        return new Locked(file, who
                + "; close the other handle or stop the other process, or open the file read-only");
    }

    static State readOnlyFile(Path file, String why) {
        return new State(Code.READ_ONLY, file, "the file is read-only (" + why + "); make it writable (chmod u+w) "
                + "to change it, or only read it (get, inspect, verify)");
    }

    static TooLong keyTooLong(Path file, int length, int width) {
        return new TooLong(Code.KEY_TOO_LONG, file, "key of " + length + " bytes is longer than this file's key width of "
                + width + " bytes; create a file with a larger key width (Options.keyWidth / hashidx create --key-size)");
    }

    static TooLong valueTooLong(Path file, int length, int width) {
        return new TooLong(Code.VALUE_TOO_LONG, file, "value of " + length
                + " bytes is longer than this file's value width of " + width
                + " bytes; create a file with a larger value width (Options.valueWidth / hashidx create --value-size)");
    }

    static TooLong keyTooLongForRecords(Path file, int length) {
        return new TooLong(Code.KEY_TOO_LONG, file, "key of " + length + " bytes is longer than the "
                + Options.MAX_VARIABLE_LENGTH + " bytes (16 MiB) a key of a variable-length file may have; "
                + "store a digest of it as the key instead");
    }

    static TooLong valueTooLongForRecords(Path file, int length) {
        return new TooLong(Code.VALUE_TOO_LONG, file, "value of " + length + " bytes is longer than the "
                + Options.MAX_VARIABLE_LENGTH + " bytes (16 MiB) a value of a variable-length file may have; "
                + "split it over several keys, or store it elsewhere and keep its location here");
    }

    static Storage diskFull(Path file, long from, long to, String purpose, Throwable cause) {
        return new Storage(Code.DISK_FULL, file, "could not extend the file from " + from + " to " + to
                + " bytes " + purpose + " (" + cause.getMessage() + "); nothing was changed and the index stays open: "
                + "gets, overwrites and removes still work; free disk space and retry", cause);
    }

    static Storage diskFullCreating(Path file, long size, Throwable cause) {
        return new Storage(Code.DISK_FULL, file, "a new index file of " + size + " bytes does not fit ("
                + cause.getMessage() + "); nothing was created; free disk space, or create the file with fewer "
                + "expected entries (Options.expectedEntries / hashidx create --expected)", cause);
    }

    /** A full disk stopped a bulk build; the target was not created. */
    static Storage diskFullBuilding(Path file, String doing, Throwable cause) {
        return new Storage(Code.DISK_FULL, file, "disk full while " + doing
                + "; the file was not created and the temporary files were deleted; free disk space and build again",
                cause);
    }

    static Storage io(Path file, String doing, Throwable cause) {
        String why = cause == null ? "" : ": " + cause.getMessage();
        return new Storage(Code.IO, file, "I/O error while " + doing + why
                + "; check the disk, permissions, `ulimit -v` and vm.max_map_count", cause);
    }

    static State closed(Path file) {
        return new State(Code.CLOSED, file, "the index is closed; open it again with HashIndex.open");
    }

    static State readOnly(Path file) {
        return new State(Code.READ_ONLY, file, "the index was opened read-only; open it with HashIndex.open to write");
    }

    /** Stored bytes that a map view's codec cannot decode: the view was made with other codecs than the data. */
    static State wrongCodec(Path file, String what, int length, Object codec, IllegalArgumentException cause) {
        return new State(Code.INVALID_ARGUMENT, file, "a stored " + what + " of " + length + " bytes does not decode with "
                + codec + " (" + cause.getMessage() + "); make the map view with the codecs the file was written with");
    }

    static State invalidArgument(Path file, String what) {
        return new State(Code.INVALID_ARGUMENT, file, what);
    }
}
