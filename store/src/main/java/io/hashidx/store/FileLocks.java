package io.hashidx.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * One JVM-wide registry of open index files.
 *
 * <p>File locks are POSIX record locks: they belong to the process, and closing <em>any</em> channel
 * on the file in this JVM silently drops them. So every open of a file in this JVM goes through this
 * registry: one writer at a time holds an exclusive lock on its own channel, and nobody else in the
 * JVM opens a channel on that file while it is open for writing. Read-only opens share one channel
 * with a shared lock, so a writer process cannot start while they read, and they cannot start while
 * a writer process holds the file.
 */
final class FileLocks {
    private static final Map<Object, Entry> OPEN = new HashMap<>();

    private FileLocks() {
    }

    private static final class Entry {
        final Object key;
        final FileChannel channel;
        final FileLock lock;
        final boolean writable;
        int users;

        Entry(Object key, FileChannel channel, FileLock lock, boolean writable) {
            this.key = key;
            this.channel = channel;
            this.lock = lock;
            this.writable = writable;
        }
    }

    /** A reference to an open, locked channel; release it exactly once. */
    static final class Handle {
        private final Entry entry;
        private boolean released;

        private Handle(Entry entry) {
            this.entry = entry;
        }

        FileChannel channel() {
            return entry.channel;
        }

        boolean writable() {
            return entry.writable;
        }

        void release() {
            synchronized (FileLocks.class) {
                if (released) {
                    return;
                }
                released = true;
                if (--entry.users == 0) {
                    OPEN.remove(entry.key);
                    try {
                        entry.lock.release();
                    } catch (IOException ignored) {
                        // closing the channel below releases it anyway
                    }
                    try {
                        entry.channel.close();
                    } catch (IOException ignored) {
                        // nothing useful to do: the file is no longer used
                    }
                }
            }
        }
    }

    private static Object fileKey(Path path) throws IOException {
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
        Object k = a.fileKey();
        return k != null ? k : path.toRealPath();
    }

    /**
     * Opens and locks {@code path}. With {@code create}, the file must not exist and is created.
     */
    static synchronized Handle acquire(Path path, boolean write, boolean create) {
        try {
            if (create) {
                FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
                return lockNew(path, ch, fileKey(path));
            }
            if (Files.isDirectory(path)) {
                throw HashIndexException.invalidArgument(path, "is a directory, not an index file; give the path of a .hidx file");
            }
            if (write && !writableByMode(path)) {
                throw HashIndexException.readOnlyFile(path, "its permissions allow no writing");
            }
            Object key = fileKey(path);
            Entry e = OPEN.get(key);
            if (e != null) {
                if (e.writable) {
                    throw HashIndexException.locked(path, "already open for writing in this JVM");
                }
                if (write) {
                    throw HashIndexException.locked(path, "already open read-only in this JVM");
                }
                e.users++;
                return new Handle(e);
            }
            FileChannel ch = write
                    ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(path, StandardOpenOption.READ);
            FileLock lock;
            try {
                lock = ch.tryLock(0, Long.MAX_VALUE, !write);
            } catch (IOException | OverlappingFileLockException ex) {
                ch.close();
                throw HashIndexException.io(path, "locking the file", ex);
            }
            if (lock == null) {
                ch.close();
                throw HashIndexException.locked(path, write
                        ? "another process has the file open"
                        : "another process has the file open for writing");
            }
            if (!key.equals(fileKey(path))) {
                // the path was renamed over while we opened it: try again on what it names now
                lock.release();
                ch.close();
                return acquire(path, write, false);
            }
            Entry entry = new Entry(key, ch, lock, write);
            entry.users = 1;
            OPEN.put(key, entry);
            return new Handle(entry);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw HashIndexException.invalidArgument(path, "file already exists; open it, or delete it first to create a new index");
        } catch (NoSuchFileException e) {
            throw HashIndexException.invalidArgument(path, create
                    ? "the directory " + path.toAbsolutePath().getParent() + " does not exist; create it first"
                    : "no such file; create the index first (HashIndex.create / hashidx create)");
        } catch (java.nio.file.AccessDeniedException e) {
            if (write && !create && Files.isReadable(path)) {
                throw HashIndexException.readOnlyFile(path, "permission denied for writing");
            }
            throw HashIndexException.io(path, "opening the file (permission denied" + (write ? "; open it read-only?" : "") + ")", e);
        } catch (IOException e) {
            throw HashIndexException.io(path, "opening the file", e);
        }
    }

    /**
     * False when the file's permission bits grant no write access at all (r--r--r--). Checked by mode,
     * not by access(2), so that a read-only file is refused also for root, who may write anything.
     */
    private static boolean writableByMode(Path path) throws IOException {
        try {
            return Files.getPosixFilePermissions(path).stream().anyMatch(p -> p.name().endsWith("_WRITE"));
        } catch (UnsupportedOperationException e) {
            return Files.isWritable(path);
        }
    }

    private static Handle lockNew(Path path, FileChannel ch, Object key) throws IOException {
        FileLock lock = ch.tryLock();
        if (lock == null) {
            ch.close();
            throw HashIndexException.locked(path, "another process locked the new file");
        }
        Entry entry = new Entry(key, ch, lock, true);
        entry.users = 1;
        OPEN.put(key, entry);
        return new Handle(entry);
    }
}
