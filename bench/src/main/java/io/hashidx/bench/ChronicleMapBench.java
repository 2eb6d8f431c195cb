package io.hashidx.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * The workloads on Chronicle Map. On Java 17+ Chronicle needs the {@code --add-exports} /
 * {@code --add-opens} list its "Java 17 support" page gives (it generates and compiles classes at
 * run time and reaches into JDK internals), and {@code -Dchronicle.analytics.disable=true} keeps it
 * from sending usage analytics.
 */
@Fork(value = 1, jvmArgsAppend = {
        "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
        "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
        "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/java.util=ALL-UNNAMED",
        "-Dchronicle.analytics.disable=true"})
public class ChronicleMapBench extends Workloads {
}
