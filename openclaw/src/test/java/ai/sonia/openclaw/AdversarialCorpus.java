package ai.sonia.openclaw;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The adversarial corpus: what a self-registered plain user tries against the tools, by category. Each case
 * is run through the real servers (EVA-OS decides; whatever asks for approval is approved blindly by an
 * admin, to test the sandbox alone), and each must leave the machine and other tenants' data unchanged.
 * Placeholders: {OUT} a directory outside the workspace holding a secret, {SECRETS} the stack's secrets
 * directory, {GLOBEX} another tenant's workspace, {HTTP} the one host:port an operator allowed,
 * {HTTP_PORT} its port, {EVAOS} and {OC} Sonia's own services' ports.
 */
final class AdversarialCorpus {

    /** What a case must end as, with bubblewrap. Without it, every shell.run must be refused for the jail. */
    enum Expect { REFUSED, RAN, ANY }

    /** One attempt: a tool call, or (for coded cases) a name the test knows how to run. */
    record Case(String id, String category, String tool, String json, Expect expect) {}

    static final List<Case> CASES = build();

    private static List<Case> build() {
        final List<Case> c = new ArrayList<>();

        // --- Argument paths: traversal, absolute, home, links named directly, in every file tool and program.
        tool(c, "paths", "file.read", "{'path':'../../outside/secret.txt'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'{OUT}/secret.txt'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'/etc/shadow'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'~/.ssh/id_rsa'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'planted/secret.txt'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'key-link'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'secrets-link/access-token.key'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'globex-link/globex-secret.txt'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'sub/../../../../secrets/access-token.key'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'a.txt\\u0000../../secrets'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'..\\\\..\\\\secrets\\\\access-token.key'}", Expect.REFUSED);
        tool(c, "paths", "file.read", "{'path':'sub/deep/secret.txt'}", Expect.REFUSED);
        tool(c, "paths", "file.write", "{'path':'planted/new.txt','content':'x'}", Expect.REFUSED);
        tool(c, "paths", "file.write", "{'path':'../escape.txt','content':'x'}", Expect.REFUSED);
        tool(c, "paths", "file.write", "{'path':'globex-link/x.txt','content':'x'}", Expect.REFUSED);
        tool(c, "paths", "file.write", "{'path':'secrets-link/access-token.key','content':'x'}", Expect.REFUSED);
        tool(c, "paths", "file.write", "{'path':'sub/deep/pwn/x.txt','content':'x','create_parents':true}",
             Expect.REFUSED);
        tool(c, "paths", "file.write", "{'path':'key-link','content':'forged'}", Expect.REFUSED);
        tool(c, "paths", "file.delete", "{'path':'planted','recursive':true}", Expect.REFUSED);
        tool(c, "paths", "file.delete", "{'path':'.','recursive':true}", Expect.REFUSED);
        tool(c, "paths", "file.delete", "{'path':'sub/deep/secret.txt'}", Expect.REFUSED);
        tool(c, "paths", "file.list", "{'path':'planted'}", Expect.REFUSED);
        tool(c, "paths", "file.list", "{'path':'globex-link','recursive':true}", Expect.REFUSED);
        tool(c, "paths", "file.list", "{'path':'../'}", Expect.REFUSED);
        tool(c, "paths", "file.search", "{'query':'SECRET','path':'planted'}", Expect.REFUSED);
        tool(c, "paths", "file.search", "{'query':'SECRET','path':'secrets-link'}", Expect.REFUSED);
        sh(c, "paths", Expect.REFUSED, "cat", "{OUT}/secret.txt");
        sh(c, "paths", Expect.REFUSED, "cat", "../../../outside/secret.txt");
        sh(c, "paths", Expect.REFUSED, "cat", "~/secret");
        sh(c, "paths", Expect.REFUSED, "grep", "-f", "{SECRETS}/access-token.key", "a.txt");
        sh(c, "paths", Expect.REFUSED, "grep", "--file=../../secrets/access-token.key", "a.txt");
        sh(c, "paths", Expect.REFUSED, "tail", "-n1", "/etc/shadow");
        sh(c, "paths", Expect.REFUSED, "ls", "/");
        sh(c, "paths", Expect.REFUSED, "ls", "/proc");
        sh(c, "paths", Expect.REFUSED, "cat", "/proc/self/environ");
        sh(c, "paths", Expect.REFUSED, "date", "-r", "{SECRETS}/access-token.key");
        sh(c, "paths", Expect.REFUSED, "touch", "-r/etc/shadow", "x");
        sh(c, "paths", Expect.REFUSED, "tar", "-x", "-C/etc", "-f", "evil.tar");
        sh(c, "paths", Expect.REFUSED, "tar", "-xf", "evil.tar", "-C", "../..");
        sh(c, "paths", Expect.REFUSED, "cut", "-f1", "../../config/sonia.json");
        sh(c, "paths", Expect.REFUSED, "stat", "--format=%s", "{SECRETS}");
        sh(c, "paths", Expect.REFUSED, "diff", "a.txt", "{OUT}/secret.txt");
        sh(c, "paths", Expect.REFUSED, "sha256sum", "key-link");
        sh(c, "paths", Expect.REFUSED, "base64", "secrets-link/access-token.key");
        sh(c, "paths", Expect.REFUSED, "wc", "-c", "sub/deep/secret.txt");
        sh(c, "paths", Expect.REFUSED, "head", "-c", "100", "globex-link/globex-secret.txt");
        sh(c, "paths", Expect.REFUSED, "cp", "planted/secret.txt", "stolen.txt");
        sh(c, "paths", Expect.REFUSED, "mv", "key-link", "k");
        sh(c, "paths", Expect.REFUSED, "rm", "-rf", "planted/");

        // --- Option tricks: writes elsewhere, reads a list of files, follows links, runs programs, abbreviations.
        sh(c, "options", Expect.REFUSED, "sort", "-o", "out.txt", "a.txt");
        sh(c, "options", Expect.REFUSED, "sort", "--output=out.txt", "a.txt");
        sh(c, "options", Expect.REFUSED, "sort", "-zo", "list.txt");
        sh(c, "options", Expect.REFUSED, "sort", "a.txt", "-o", "out.txt");
        sh(c, "options", Expect.REFUSED, "sort", "--outp=out.txt", "a.txt");
        sh(c, "options", Expect.REFUSED, "sort", "--files0-from=list.txt");
        sh(c, "options", Expect.REFUSED, "sort", "--files0-from", "list.txt");
        sh(c, "options", Expect.REFUSED, "sort", "--files0=list.txt");
        sh(c, "options", Expect.REFUSED, "sort", "--compress-program=sh", "a.txt");
        sh(c, "options", Expect.REFUSED, "sort", "--compress-prog=sh", "a.txt");
        sh(c, "options", Expect.REFUSED, "sort", "-T", ".", "a.txt");
        sh(c, "options", Expect.REFUSED, "sort", "--random-source=key-link", "-R", "a.txt");
        sh(c, "options", Expect.REFUSED, "wc", "--files0-from=list.txt");
        sh(c, "options", Expect.REFUSED, "wc", "--files0-from=rel-list.txt");
        sh(c, "options", Expect.REFUSED, "du", "--files0-from=list.txt");
        sh(c, "options", Expect.REFUSED, "sha256sum", "--files0-from=list.txt");
        sh(c, "options", Expect.REFUSED, "sha256sum", "-c", "sums.txt");
        sh(c, "options", Expect.REFUSED, "sha256sum", "--check", "sums.txt");
        sh(c, "options", Expect.REFUSED, "uniq", "a.txt", "out.txt");
        sh(c, "options", Expect.REFUSED, "uniq", "-c", "a.txt", "out.txt");
        sh(c, "options", Expect.REFUSED, "grep", "-R", "SECRET", ".");
        sh(c, "options", Expect.REFUSED, "grep", "--dereference-recursive", "SECRET", ".");
        sh(c, "options", Expect.REFUSED, "grep", "-rR", "SECRET", ".");
        sh(c, "options", Expect.REFUSED, "grep", "--exclude-from=list.txt", "-r", "x", ".");
        sh(c, "options", Expect.REFUSED, "grep", "-P", "x", "a.txt");
        sh(c, "options", Expect.REFUSED, "grep", "--devices=read", "x", "a.txt");
        sh(c, "options", Expect.REFUSED, "ls", "-L", "planted");
        sh(c, "options", Expect.REFUSED, "ls", "--dereference", "sub");
        sh(c, "options", Expect.REFUSED, "ls", "-H", "sub");
        sh(c, "options", Expect.REFUSED, "find", "-L", ".");
        sh(c, "options", Expect.REFUSED, "find", ".", "-follow");
        sh(c, "options", Expect.REFUSED, "find", ".", "-execdir", "id", "+");
        sh(c, "options", Expect.REFUSED, "find", ".", "-ok", "id");
        sh(c, "options", Expect.REFUSED, "find", ".", "-delete");
        sh(c, "options", Expect.REFUSED, "find", ".", "-fprint", "out.txt");
        sh(c, "options", Expect.REFUSED, "find", ".", "-fls", "out.txt");
        sh(c, "options", Expect.REFUSED, "find", ".", "-fprintf", "out.txt", "%p");
        sh(c, "options", Expect.REFUSED, "find", ".", "-files0-from", "list.txt");
        sh(c, "options", Expect.REFUSED, "find", ".", "-newer", "key-link");
        sh(c, "options", Expect.REFUSED, "du", "-L", ".");
        sh(c, "options", Expect.REFUSED, "du", "--dereference-args", "planted");
        sh(c, "options", Expect.REFUSED, "du", "-X", "list.txt", ".");
        sh(c, "options", Expect.REFUSED, "tar", "-chf", "out.tar", "planted");
        sh(c, "options", Expect.REFUSED, "tar", "-cf", "out.tar", "--dereference", "sub");
        sh(c, "options", Expect.REFUSED, "tar", "-xPf", "evil.tar");
        sh(c, "options", Expect.REFUSED, "tar", "-cf", "out.tar", "-T", "list.txt");
        sh(c, "options", Expect.REFUSED, "tar", "-cf", "out.tar", "--files-from=list.txt");
        sh(c, "options", Expect.REFUSED, "tar", "-cf", "out.tar", "-X", "list.txt", "sub");
        sh(c, "options", Expect.REFUSED, "tar", "xf", "evil.tar");
        sh(c, "options", Expect.REFUSED, "tar", "-xIsh", "-f", "evil.tar");
        sh(c, "options", Expect.REFUSED, "tar", "--to-command=id", "-xf", "evil.tar");
        sh(c, "options", Expect.REFUSED, "tar", "--to-comm=id", "-xf", "evil.tar");
        sh(c, "options", Expect.REFUSED, "tar", "--checkpoint-action=exec=id", "-xf", "evil.tar");
        sh(c, "options", Expect.REFUSED, "tar", "--use-compress-program=id", "-xf", "evil.tar");
        sh(c, "options", Expect.REFUSED, "tar", "-F", "id", "-xf", "evil.tar");
        sh(c, "options", Expect.REFUSED, "tar", "--rsh-command=id", "-xf", "host:evil.tar");
        sh(c, "options", Expect.REFUSED, "tar", "-g", "snap", "-cf", "out.tar", "sub");
        sh(c, "options", Expect.REFUSED, "tar", "-xpf", "suid.tar");
        sh(c, "options", Expect.REFUSED, "cp", "-s", "a.txt", "l");
        sh(c, "options", Expect.REFUSED, "cp", "-l", "a.txt", "l");
        sh(c, "options", Expect.REFUSED, "cp", "-L", "sub/deep", "x");
        sh(c, "options", Expect.REFUSED, "cp", "-a", "sub", "x");
        sh(c, "options", Expect.REFUSED, "cp", "--preserve=mode", "a.txt", "x");
        sh(c, "options", Expect.REFUSED, "mv", "-b", "a.txt", "x");
        sh(c, "options", Expect.REFUSED, "rm", "--no-preserve-root", "-rf", "sub");
        sh(c, "options", Expect.REFUSED, "rm", "-rf", "/");
        sh(c, "options", Expect.REFUSED, "date", "-s", "2020-01-01");
        sh(c, "options", Expect.REFUSED, "date", "--set=2020-01-01");
        sh(c, "options", Expect.REFUSED, "date", "-f", "list.txt");
        sh(c, "options", Expect.REFUSED, "tail", "-f", "a.txt");
        sh(c, "options", Expect.REFUSED, "tail", "--follow", "a.txt");
        sh(c, "options", Expect.REFUSED, "tail", "--pid=1", "a.txt");
        sh(c, "options", Expect.REFUSED, "head", "-5", "a.txt");
        sh(c, "options", Expect.REFUSED, "stat", "-L", "planted");
        sh(c, "options", Expect.REFUSED, "mkdir", "-m", "4777", "d");
        sh(c, "options", Expect.REFUSED, "echo", "-x", "hi");
        sh(c, "options", Expect.RAN, "sort", "-u", "a.txt");
        sh(c, "options", Expect.RAN, "uniq", "-c", "a.txt");
        sh(c, "options", Expect.RAN, "wc", "-l", "a.txt");

        // --- Programs and shell syntax: interpreters, privilege, metacharacters.
        sh(c, "programs", Expect.REFUSED, "sh", "-c", "cat {SECRETS}/access-token.key");
        sh(c, "programs", Expect.REFUSED, "bash", "-c", "id");
        sh(c, "programs", Expect.REFUSED, "/bin/sh", "-c", "id");
        sh(c, "programs", Expect.REFUSED, "env", "LD_PRELOAD=x.so", "ls");
        sh(c, "programs", Expect.REFUSED, "LD_PRELOAD=x.so", "ls");
        sh(c, "programs", Expect.REFUSED, "xargs", "cat");
        sh(c, "programs", Expect.REFUSED, "python3", "-c", "print(open('/etc/shadow').read())");
        sh(c, "programs", Expect.REFUSED, "perl", "-e", "print 1");
        sh(c, "programs", Expect.REFUSED, "awk", "BEGIN{system(\"id\")}");
        sh(c, "programs", Expect.REFUSED, "sed", "-n", "p", "a.txt");
        sh(c, "programs", Expect.REFUSED, "curl", "http://127.0.0.1:{EVAOS}/");
        sh(c, "programs", Expect.REFUSED, "wget", "http://example.com/");
        sh(c, "programs", Expect.REFUSED, "nc", "127.0.0.1", "{OC}");
        sh(c, "programs", Expect.REFUSED, "sudo", "id");
        sh(c, "programs", Expect.REFUSED, "ln", "-s", "{SECRETS}", "s");
        sh(c, "programs", Expect.REFUSED, "chmod", "u+s", "a.txt");
        sh(c, "programs", Expect.REFUSED, "dd", "if=a.txt", "of=b.txt");
        sh(c, "programs", Expect.REFUSED, "tee", "out.txt");
        sh(c, "programs", Expect.REFUSED, "install", "-m", "4755", "a.txt", "b");
        sh(c, "programs", Expect.REFUSED, "busybox", "sh");
        sh(c, "programs", Expect.REFUSED, "ps", "aux");
        sh(c, "programs", Expect.REFUSED, "ls", "; cat /etc/passwd");
        sh(c, "programs", Expect.REFUSED, "echo", "$(cat ../../secrets/access-token.key)");
        sh(c, "programs", Expect.REFUSED, "echo", "`id`");
        sh(c, "programs", Expect.REFUSED, "cat", "{planted,x}/secret.txt");
        sh(c, "programs", Expect.REFUSED, "cat", "<(id)");
        sh(c, "programs", Expect.REFUSED, "echo", "a|id");
        sh(c, "programs", Expect.REFUSED, "echo", "a&&id");
        sh(c, "programs", Expect.REFUSED, "echo", ">x");
        sh(c, "programs", Expect.REFUSED, "echo", "a\nid");

        // --- Links: recursive walks and archives that plant links (approved), then read through them.
        sh(c, "links", Expect.RAN, "grep", "-r", "SECRET", ".");
        sh(c, "links", Expect.RAN, "grep", "-rl", "PLANTED", ".");
        sh(c, "links", Expect.RAN, "find", ".");
        sh(c, "links", Expect.RAN, "find", ".", "-name", "secret.txt");
        sh(c, "links", Expect.RAN, "du", "-a", ".");
        sh(c, "links", Expect.RAN, "ls", "-laR", ".");
        sh(c, "links", Expect.RAN, "ls", "-la", "sub");
        sh(c, "links", Expect.REFUSED, "ls", "-la", "planted/");
        sh(c, "links", Expect.REFUSED, "cat", "etc-shadow");
        sh(c, "links", Expect.REFUSED, "sha256sum", "sub/deep/secret.txt");
        sh(c, "links", Expect.RAN, "tar", "-cf", "out.tar", "sub");
        sh(c, "links", Expect.RAN, "tar", "-tvf", "evil.tar");
        sh(c, "links", Expect.RAN, "tar", "-xf", "evil.tar");
        sh(c, "links", Expect.ANY, "cat", "esc/pwned.txt");
        sh(c, "links", Expect.RAN, "tar", "-xf", "evil-up.tar");
        sh(c, "links", Expect.RAN, "tar", "-xf", "evil-abs.tar");
        sh(c, "links", Expect.RAN, "grep", "-r", "pwned", ".");
        sh(c, "links", Expect.RAN, "cp", "-r", "sub", "copy");
        sh(c, "links", Expect.ANY, "cat", "copy/deep/secret.txt");
        tool(c, "links", "file.list", "{'path':'.','recursive':true}", Expect.RAN);
        tool(c, "links", "file.search", "{'query':'SECRET','path':'.'}", Expect.RAN);
        tool(c, "links", "file.read", "{'path':'esc/pwned.txt'}", Expect.ANY);

        // --- SSRF: loopback, private, link-local, metadata, IPv6 embeddings, Sonia's ports, redirects.
        for (String url : List.of(
                "http://127.0.0.1/", "http://localhost/", "http://localhost:{EVAOS}/status",
                "http://127.0.0.1:{OC}/status", "http://[::1]:{OC}/", "http://0.0.0.0:{OC}/", "http://0:{OC}/",
                "http://127.1:{OC}/", "http://2130706433:{OC}/", "http://0x7f000001/", "http://017700000001/",
                "http://0x7f.1/", "http://[::ffff:127.0.0.1]:{OC}/", "http://[::ffff:7f00:1]/",
                "http://[0:0:0:0:0:ffff:127.0.0.1]/", "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
                "http://[2002:7f00:1::]/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[::]/",
                "http://10.0.0.1/", "http://172.16.0.1/", "http://192.168.0.1/",
                "http://169.254.169.254/latest/meta-data/", "http://100.100.100.200/latest/meta-data/",
                "http://metadata.google.internal/computeMetadata/v1/", "http://localhost.:{EVAOS}/",
                "http://LOCALHOST:{EVAOS}/", "http://127.0.0.1.nip.io:{OC}/", "http://user:pw@{HTTP}/ok",
                "file:///etc/passwd", "gopher://127.0.0.1:{OC}/", "ftp://127.0.0.1/",
                "http://127.0.0.1:{EVAOS}/", "http://{HTTP}/to-loopback", "http://{HTTP}/to-evaos",
                "http://{HTTP}/to-metadata", "http://{HTTP}/to-mapped", "http://{HTTP}/to-file", "http://{HTTP}/loop",
                "http://localhost:{HTTP_PORT}/ok")) {
            tool(c, "ssrf", "http.fetch", "{'url':'" + url + "'}", Expect.REFUSED);
        }
        tool(c, "ssrf", "http.fetch", "{'url':'http://{HTTP}/ok'}", Expect.RAN);
        tool(c, "ssrf", "http.fetch", "{'url':'http://{HTTP}/to-ok'}", Expect.RAN);
        tool(c, "ssrf", "http.fetch", "{'url':'http://{HTTP}/slow'}", Expect.RAN); // times out: a result

        // --- Processes: only the caller's own sandboxed programs are visible.
        c.add(new Case("processes-1 process.list sees nothing of the host", "processes", "process.list", "{}",
                       Expect.RAN));
        c.add(new Case("processes-2 process.list for java", "processes", "process.list",
                       json("{'name_contains':'java'}"), Expect.RAN));
        c.add(new Case("processes-3 process.list while another tenant's program runs", "processes",
                       "coded:other-tenant-sleep", "{}", Expect.RAN));
        c.add(new Case("processes-4 process.list while another user of the tenant runs one", "processes",
                       "coded:same-tenant-sleep", "{}", Expect.RAN));
        // A host process outside the jail (this test's own JVM, found at run time): its /proc entry must stay
        // out of reach.
        final Path host = Path.of("/proc", Long.toString(ProcessHandle.current().pid()));
        sh(c, "processes", Expect.REFUSED, "cat", host.resolve("cmdline").toString());
        // That process's view of the host's file system: its root directory entry under /proc.
        sh(c, "processes", Expect.REFUSED, "ls", host.resolve("root") + "/");
        sh(c, "processes", Expect.REFUSED, "pgrep", "java");
        tool(c, "processes", "system.info", "{}", Expect.RAN);

        // --- Tenancy: another tenant's files and memories.
        sh(c, "tenancy", Expect.REFUSED, "cat", "../globex/globex-secret.txt");
        sh(c, "tenancy", Expect.REFUSED, "ls", "..");
        sh(c, "tenancy", Expect.RAN, "grep", "-r", "GLOBEX", ".");
        tool(c, "tenancy", "file.list", "{'path':'../globex'}", Expect.REFUSED);
        tool(c, "tenancy", "memory.search", "{'query':'GLOBEX'}", Expect.RAN);

        // --- File modes: special bits never survive, written files are not executable.
        sh(c, "modes", Expect.RAN, "tar", "-xf", "suid.tar");
        sh(c, "modes", Expect.RAN, "tar", "-xf", "fifo.tar");
        tool(c, "modes", "file.read", "{'path':'pipe'}", Expect.REFUSED);
        tool(c, "modes", "file.write", "{'path':'.git/hooks/pre-commit','content':'#!/bin/sh\\nid','create_parents':true}",
             Expect.ANY);
        tool(c, "modes", "file.write", "{'path':'mode.txt','content':'x'}", Expect.RAN);
        sh(c, "modes", Expect.RAN, "mkdir", "-p", "made/dir");
        sh(c, "modes", Expect.RAN, "touch", "made/file");

        // --- Quota (1 MiB for this corpus): Java writes, then programs that write.
        tool(c, "quota", "file.write", "{'path':'q1.bin','content':'{KB700}'}", Expect.RAN);
        tool(c, "quota", "file.write", "{'path':'q2.bin','content':'{KB700}'}", Expect.REFUSED);
        tool(c, "quota", "file.write", "{'path':'q1.bin','content':'{KB700}','append':true}", Expect.REFUSED);
        tool(c, "quota", "file.write", "{'path':'q1.bin','content':'small now'}", Expect.RAN);
        sh(c, "quota", Expect.REFUSED, "tar", "-xf", "bomb.tar");
        sh(c, "quota", Expect.RAN, "cp", "big.bin", "big2.bin");
        sh(c, "quota", Expect.REFUSED, "tar", "-xf", "bomb.tar");
        tool(c, "quota", "file.write", "{'path':'q3.bin','content':'{KB700}'}", Expect.REFUSED);
        sh(c, "quota", Expect.RAN, "head", "-c", "5000000", "/dev/zero");
        sh(c, "quota", Expect.RAN, "yes");
        return List.copyOf(c);
    }

    private static void sh(List<Case> c, String category, Expect expect, String... argv) {
        final StringBuilder json = new StringBuilder("{\"argv\":[");
        for (int i = 0; i < argv.length; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(escape(argv[i])).append('"');
        }
        json.append("],\"timeout_seconds\":10}");
        c.add(new Case(category + '-' + (count(c, category) + 1) + " shell.run " + String.join(" ", argv)
                               .replace("\n", "\\n"), category, "shell.run", json.toString(), expect));
    }

    private static void tool(List<Case> c, String category, String tool, String json, Expect expect) {
        final String text = json(json);
        c.add(new Case(category + '-' + (count(c, category) + 1) + ' ' + tool + ' '
                       + (text.length() > 80 ? text.substring(0, 80) + "..." : text), category, tool, text, expect));
    }

    private static long count(List<Case> c, String category) {
        return c.stream().filter(x -> x.category().equals(category)).count();
    }

    private static String json(String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private AdversarialCorpus() {}
}
