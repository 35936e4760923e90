#!/usr/bin/env bash
# make deb: build lvx and lvx-sim in release mode with the Swift runtime linked in, and assemble
# lvx_VERSION_ARCH.deb and lvx-sim_VERSION_ARCH.deb with dpkg-deb, in $SCRATCH (.build-deb/).
#
# dpkg-deb, not debhelper: the binaries come from a Swift toolchain that Debian does not package,
# so a source package (debian/rules, Build-Depends) could not be built by Debian's tools anyway.
# This script does by hand the few things debhelper would: strip, compress docs, compute Depends
# with dpkg-shlibdeps, write md5sums, and run systemd-sysusers/tmpfiles in the postinst.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
SCRATCH=${SCRATCH:-.build-deb}
MAINTAINER="Seed 1f85e2cf maintainers <maintainers@users.noreply.b-seed-1f85e2cf.example>"

version=$(sed -nE 's/^ *static let version = "([^"]+)"$/\1/p' Sources/lvx/LVXCommand.swift)
[ -n "$version" ] || { echo "deb: no 'static let version' in Sources/lvx/LVXCommand.swift" >&2; exit 1; }
logged=$(dpkg-parsechangelog -l packaging/changelog -S Version)
if [ "$logged" != "$version" ]; then
    echo "deb: packaging/changelog's latest entry is $logged, but lvx is $version: add an entry for $version" >&2
    exit 1
fi
arch=$(dpkg --print-architecture)
# Timestamps in the packages and the manual page come from the changelog, so a rebuild is identical.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l packaging/changelog -S Timestamp)
export SOURCE_DATE_EPOCH
date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)

# The manual pages, from argument-parser's generate-manual plugin, which reads each command's
# --experimental-dump-help. The plugin builds the package itself, and `swift package` takes no
# --static-swift-stdlib, so a release build by the plugin would replace the static one below (and
# each would recompile everything). It builds in debug instead, in .build (MANUAL_SCRATCH), where
# `make test` has already built it: the help is the same.
MANUAL_SCRATCH=${MANUAL_SCRATCH:-.build}
mkdir -p "$SCRATCH"
echo "deb: generating the manual pages"
"$SWIFT" package --scratch-path "$MANUAL_SCRATCH" plugin generate-manual --configuration debug \
    --date "$date" --section 1 --authors "the lvx authors" >"$SCRATCH/generate-manual.log" 2>&1 ||
    { cat "$SCRATCH/generate-manual.log" >&2; exit 1; }
build=("$SWIFT" build -c release --static-swift-stdlib --scratch-path "$SCRATCH")
echo "deb: building lvx $version (release, static Swift runtime) in $SCRATCH"
"${build[@]}"
bin=$("${build[@]}" --show-bin-path)
for program in lvx lvx-sim; do
    if ldd "$bin/$program" | grep -q "libswiftCore"; then
        echo "deb: $bin/$program links the shared Swift runtime" >&2
        exit 1
    fi
done

# A generated manual page, with the blank lines of the commands' discussions as paragraph breaks
# (mdoc's .Pp; groff warns about an empty line).
manual() {
    local page
    page=$(find "$MANUAL_SCRATCH/plugins" -path "*GenerateManual*" -name "$1.1" | head -1)
    [ -n "$page" ] || { echo "deb: generate-manual wrote no $1.1; see $SCRATCH/generate-manual.log" >&2; exit 1; }
    sed 's/^$/.Pp/' "$page" >"$SCRATCH/$1.1"
    echo "$SCRATCH/$1.1"
}

stage=$SCRATCH/stage
rm -rf "$stage"
mkdir -p "$stage"

# Gzip a file into the package, without a name or time in the header (reproducible).
gz() { install -d "$(dirname "$2")" && gzip -9n <"$1" >"$2" && chmod 0644 "$2"; }

# The shared libraries a binary links, as Depends, through dpkg-shlibdeps and the shlibs of the
# installed -dev packages' runtime libraries.
shlibs() {
    local dir=$SCRATCH/shlibs
    rm -rf "$dir" && mkdir -p "$dir/debian"
    printf 'Source: lvx\n\nPackage: %s\nArchitecture: any\n' "$1" >"$dir/debian/control"
    local binary
    binary=$(realpath "$2")
    (cd "$dir" && dpkg-shlibdeps -O -e"$binary") | sed -n 's/^shlibs:Depends=//p'
}

# Writes DEBIAN/control and md5sums for the tree $1 (package $2, binary $3), and builds the .deb.
finish() {
    local root=$1 name=$2 binary=$3
    find "$root" -type d -exec chmod 0755 {} +
    install -d "$root/DEBIAN"
    local depends size
    depends=$(shlibs "$name" "$binary")
    [ -n "$depends" ] || { echo "deb: dpkg-shlibdeps found no libraries for $binary" >&2; exit 1; }
    size=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
    sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$MAINTAINER|" \
        -e "s|@SIZE@|$size|" -e "s|@SHLIBS@|$depends|" "packaging/control.$name" >"$root/DEBIAN/control"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort | xargs md5sum) \
        >"$root/DEBIAN/md5sums"
    chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
    dpkg-deb --root-owner-group -Zxz --build "$root" "$SCRATCH/${name}_${version}_${arch}.deb"
}

# Strips like dh_strip: debug symbols and the notes that only a debugger reads.
strip_into() {
    install -d "$(dirname "$2")"
    install -m 0755 "$1" "$2"
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$2"
}

# --- lvx -------------------------------------------------------------------------------------
root=$stage/lvx
strip_into "$bin/lvx" "$root/usr/bin/lvx"

units=$root/usr/lib/systemd/system
install -d "$units"
for unit in lvx-run.service lvx-run.timer lvx-run-failed@.service; do
    # The examples are for a hand install in /etc with lvx in /usr/local/bin.
    sed -E -e 's|/usr/local/bin/lvx|/usr/bin/lvx|g' \
        -e '/^# Install: \/etc\/systemd\/system\/lvx-run\.service$/d' \
        -e 's|^# Install: /etc/systemd/system/lvx-run-failed@\.service\. |# |' \
        -e 's|^# Install: /etc/systemd/system/lvx-run\.timer, then |# After `lvx init` has made the repository: |' \
        -e "1i # From the lvx package. Change it with a drop-in: systemctl edit $unit" \
        -e 's|^\[Unit\]$|&\nDocumentation=man:lvx(1) file:/usr/share/doc/lvx/Operations.md.gz|' \
        "examples/systemd/$unit" >"$units/$unit"
done
if grep -n "Install: \|/usr/local" "$units"/*; then echo "deb: a unit still names a hand install" >&2; exit 1; fi

install -d "$root/usr/lib/udev/rules.d"
sed -e '/^# Install: /,/^#$/d' \
    -e '1a # From the lvx package; the postinst reloads udev. A file of the same name in /etc/udev/rules.d replaces it.' \
    examples/udev/99-lvx.rules >"$root/usr/lib/udev/rules.d/99-lvx.rules"

install -d "$root/usr/share/polkit-1/rules.d"
sed -e 's|^// Install: .*|// From the lvx package. To change the list, copy this file to /etc/polkit-1/rules.d/50-lvx.rules\n// and edit the copy there: a file of the same name in /etc replaces this one.|' \
    examples/systemd/50-lvx.rules >"$root/usr/share/polkit-1/rules.d/50-lvx.rules"

install -D -m 0644 packaging/lvx.sysusers "$root/usr/lib/sysusers.d/lvx.conf"
install -D -m 0644 packaging/lvx.tmpfiles "$root/usr/lib/tmpfiles.d/lvx.conf"

install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"
# bash sources a completion file, so argument-parser's #!/bin/bash line is dropped.
"$bin/lvx" --generate-completion-script bash | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/lvx"
"$bin/lvx" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_lvx"
"$bin/lvx" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/lvx.fish"

gz "$(manual lvx)" "$root/usr/share/man/man1/lvx.1.gz"

doc=$root/usr/share/doc/lvx
gz Docs/Operations.md "$doc/Operations.md.gz"
gz README.md "$doc/README.md.gz"
gz packaging/changelog "$doc/changelog.gz"
install -m 0644 packaging/copyright "$doc/copyright"

find "$root" -type f ! -path "$root/usr/bin/*" -exec chmod 0644 {} +
install -d "$root/DEBIAN"
install -m 0755 packaging/lvx.postinst "$root/DEBIAN/postinst"
install -m 0755 packaging/lvx.prerm "$root/DEBIAN/prerm"
install -m 0755 packaging/lvx.postrm "$root/DEBIAN/postrm"
finish "$root" lvx "$root/usr/bin/lvx"

# --- lvx-sim ---------------------------------------------------------------------------------
root=$stage/lvx-sim
strip_into "$bin/lvx-sim" "$root/usr/bin/lvx-sim"
gz "$(manual lvx-sim)" "$root/usr/share/man/man1/lvx-sim.1.gz"
doc=$root/usr/share/doc/lvx-sim
gz packaging/changelog "$doc/changelog.gz"
install -m 0644 packaging/copyright "$doc/copyright"
find "$root" -type f ! -path "$root/usr/bin/*" -exec chmod 0644 {} +
finish "$root" lvx-sim "$root/usr/bin/lvx-sim"

echo "deb: built $SCRATCH/lvx_${version}_${arch}.deb and $SCRATCH/lvx-sim_${version}_${arch}.deb"
