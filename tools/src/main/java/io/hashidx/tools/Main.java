package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hashidx.store.HashIndexException;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The {@code hashidx} command line. Each subcommand is one class that writes to the {@code out} and
 * {@code err} writers given to {@link #run}, so tests run commands in-process and read their output.
 * Commands call only the store's public API ({@code HashIndex}, {@code Options}, {@code Inspection}, {@code Plan}).
 */
@Command(name = "hashidx", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"A persistent on-disk hash index: fixed-width byte-string keys and values in one file.", ""},
        subcommands = {
            CreateCommand.class,
            LoadCommand.class,
            DumpCommand.class,
            GetCommand.class,
            PutCommand.class,
            DeleteCommand.class,
            InspectCommand.class,
            VerifyCommand.class,
            PlanCommand.class,
            CompactCommand.class,
            HelpCommand.class},
        commandListHeading = "Commands:%n",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:a key was not found (get, delete) or verify found problems",
            "2:usage error",
            "3:hashidx error: the message starts with its stable code, e.g. 'HIDX-004 locked: ...'",
            "4:input data error: a bad line in a load input, or an input that cannot be read"},
        footer = {"", "Errors are one line on stderr; set HASHIDX_DEBUG=1 for the stack trace.",
            "Run 'hashidx COMMAND --help' for a command's options."})
public final class Main {
    public static final int OK = 0;
    /** A key was not found (get, delete), or verify found problems. */
    public static final int NOT_FOUND_OR_PROBLEMS = 1;
    public static final int USAGE_ERROR = 2;
    /** An error from the index, with its stable HIDX code. */
    public static final int HASHIDX_ERROR = 3;
    public static final int INPUT_DATA_ERROR = 4;

    private Main() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new BufferedWriter(
                new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), UTF_8), 1 << 16));
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err), UTF_8));
        int code = run(out, err, args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line; returns the exit code. Everything is written to {@code out} and {@code err}. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler(Main::failure);
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static int usageError(ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        debug(err, e);
        String command = e.getCommandLine().getCommandSpec().qualifiedName();
        err.println(command + ": " + e.getMessage() + " (see '" + command + " --help')");
        return USAGE_ERROR;
    }

    private static int failure(Exception e, CommandLine command, ParseResult parsed) {
        PrintWriter err = command.getErr();
        debug(err, e);
        if (e instanceof HashIndexException) {
            err.println("hashidx: " + e.getMessage());
            return HASHIDX_ERROR;
        }
        if (e instanceof InputDataException) {
            err.println("hashidx: " + e.getMessage());
            return INPUT_DATA_ERROR;
        }
        err.println("hashidx: unexpected error: " + e
                + (debugging() ? "" : " (set HASHIDX_DEBUG=1 for the stack trace)"));
        return HASHIDX_ERROR;
    }

    private static boolean debugging() {
        return "1".equals(System.getenv("HASHIDX_DEBUG"));
    }

    private static void debug(PrintWriter err, Exception e) {
        if (debugging()) {
            e.printStackTrace(err);
        }
    }

    /** The tool's version from the jar's Maven descriptor, and the Java runtime. */
    static final class Version implements IVersionProvider {
        private static final String POM_PROPERTIES = "/META-INF/maven/io.hashidx/hashidx-tools/pom.properties";

        @Override
        public String[] getVersion() {
            String version = "(development build)";
            try (InputStream in = Main.class.getResourceAsStream(POM_PROPERTIES)) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    version = p.getProperty("version", version);
                }
            } catch (IOException e) {
                // keep the development-build label: the version is informational
            }
            return new String[] {
                "hashidx " + version,
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
