#!/usr/bin/env bash
# Builds the root file system of Sonia's image base, from what this machine already has, so that Jib can
# build the image on `scratch` with no registry and no Docker daemon:
#   - a Java runtime made by jlink from the local JDK 17 (its jmods): /opt/java
#   - the shared libraries that runtime and the native libraries Sonia unpacks at run time (SQLite, Netty,
#     ONNX Runtime) load, copied from the machine's Debian packages (libc6, zlib1g, libstdc++6, libgcc-s1)
#   - /etc/passwd and /etc/group naming the user the image runs as (10001, "sonia"), /tmp, /var/lib/sonia
# usage: deploy/image/base-rootfs.sh <output directory>
set -euo pipefail

out="${1:?usage: base-rootfs.sh <output directory>}"
java_home="${SONIA_IMAGE_JDK:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
[ -d "$java_home/jmods" ] || { echo "base-rootfs: $java_home has no jmods (apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }
case "$("$java_home/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')" in
  17) ;;
  *) echo "base-rootfs: $java_home is not a JDK 17 (set SONIA_IMAGE_JDK)" >&2; exit 1 ;;
esac

rm -rf "$out"
mkdir -p "$out/etc" "$out/tmp" "$out/var/lib/sonia"
"$java_home/bin/jlink" --add-modules java.se,jdk.unsupported,jdk.crypto.ec,jdk.crypto.cryptoki,jdk.management,jdk.zipfs,jdk.localedata,jdk.jfr,jdk.net,jdk.naming.dns \
  --strip-debug --no-man-pages --no-header-files --compress=2 --output "$out/opt/java"
# Debian keeps the JDK's CA certificates outside it (ca-certificates-java): the router calls HTTPS providers.
if [ ! -s "$out/opt/java/lib/security/cacerts" ] && [ -r /etc/ssl/certs/java/cacerts ]; then
  rm -f "$out/opt/java/lib/security/cacerts"
  cp -L /etc/ssl/certs/java/cacerts "$out/opt/java/lib/security/cacerts"
fi

# Every shared library the runtime links, and those of the native code unpacked at run time.
extra=(libstdc++.so.6 libgcc_s.so.1 libz.so.1 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2)
libs="$( { find "$out/opt/java" -type f \( -name '*.so' -o -path '*/bin/*' \) -exec ldd {} \; 2>/dev/null
           for name in "${extra[@]}"; do ldconfig -p | awk -v n="$name" '$1 == n && /x86-64/ {print n " => " $NF; exit}'; done
           for name in "${extra[@]}"; do p="$(ldconfig -p | awk -v n="$name" '$1 == n && /x86-64/ {print $NF; exit}')"; [ -n "$p" ] && ldd "$p"; done
         } | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)"
for lib in $libs; do
  case "$lib" in "$out"/*) continue ;; esac
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done

cat >"$out/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
sonia:x:10001:10001:Sonia:/var/lib/sonia:/sbin/nologin
PASSWD
cat >"$out/etc/group" <<'GROUP'
root:x:0:
sonia:x:10001:
GROUP
echo "hosts: files dns" >"$out/etc/nsswitch.conf"
echo "base-rootfs: $(du -sh "$out" | cut -f1) in $out (Java $("$out/opt/java/bin/java" -version 2>&1 | head -1))"
