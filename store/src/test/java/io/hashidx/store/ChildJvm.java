package io.hashidx.store;

import java.io.File;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * How tests start a main class of theirs in a new JVM (the java binary of this one). Surefire runs
 * the store's tests on the module path with the test classes patched in; the child gets one plain
 * class path made of the directories or jars holding the main class and HashIndex, this JVM's class
 * path and its module path.
 */
final class ChildJvm {
    private ChildJvm() {
    }

    /** The java binary of this JVM. */
    static String java() {
        return ProcessHandle.current().info().command().orElseThrow();
    }

    /** The class path for a child JVM that runs {@code main}. */
    static String classPath(Class<?> main) throws URISyntaxException {
        Set<String> classPath = new LinkedHashSet<>();
        classPath.add(codeRoot(main));
        classPath.add(codeRoot(HashIndex.class));
        for (String property : List.of("java.class.path", "jdk.module.path")) {
            String value = System.getProperty(property);
            if (value != null) {
                for (String entry : value.split(File.pathSeparator)) {
                    if (!entry.isBlank()) {
                        classPath.add(entry);
                    }
                }
            }
        }
        return String.join(File.pathSeparator, classPath);
    }

    /** The class path root (directory or jar) that a class was loaded from. */
    private static String codeRoot(Class<?> c) throws URISyntaxException {
        String resource = c.getSimpleName() + ".class";
        URL url = c.getResource(resource);
        if (url == null) {
            throw new IllegalStateException("cannot locate " + resource);
        }
        String s = url.toString();
        if (s.startsWith("jar:")) {
            return Path.of(new URI(s.substring(4, s.indexOf("!/")))).toString();
        }
        Path root = Path.of(url.toURI());
        for (int i = 0; i < c.getName().split("\\.").length; i++) {
            root = root.getParent();
        }
        return root.toString();
    }
}
