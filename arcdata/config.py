"""Pipeline files: load (safely), apply ``--set`` overrides, fill defaults, validate.

A pipeline is declarative data, like an HF ``datasets`` builder config: nothing in it runs.
YAML is parsed with ``safe_load`` and checked against ``arcdata/schema_files/pipeline.schema.json`` so a
typo fails before any work starts, with the bad key spelled out.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
from pathlib import Path

import jsonschema
import yaml

from arcdata.errors import ConfigError
from arcdata.storage.hashing import bytes_sha256

SCHEMA_PATH = Path(__file__).resolve().parent / "schema_files" / "pipeline.schema.json"

DEFAULTS: dict = {
    "codec": "arc",
    "seed": 0,
    "split": "hrm",
    "ids": "version",
    "on_error": "fail",
    "augment": {
        "versions": 1000,
        "dihedral": [0, 1, 2, 3, 4, 5, 6, 7],
        "colours": {"permute": True, "fixed": [0]},
        "sudoku": False,
        "translate": True,
        "evaluation": True,
        "draws_factor": 5,
    },
    "shards": {"rows": 131072, "row_group": 16384, "compression": "zstd", "compression_level": 1},
}


def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def merge(base: dict, over: dict) -> dict:
    """Deep merge: mappings merge key by key, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text: str) -> tuple[list[str], object]:
    """``augment.versions=10`` -> (["augment", "versions"], 10); values are YAML scalars."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"--set has an empty key in {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except (yaml.YAMLError, RecursionError) as e:
        raise ConfigError(f"--set {key}: cannot parse value {raw[:80]!r}: {e}") from None
    return parts, value


def apply_overrides(config: dict, overrides: list[str]) -> dict:
    out = copy.deepcopy(config)
    for text in overrides:
        parts, value = parse_override(text)
        node = out
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        node[parts[-1]] = value
    return out


def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: pipeline file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: pipeline file is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a pipeline must be a mapping of keys to values")
    return data


MAX_VALUES = 100_000
MAX_DEPTH = 64


def _plain(value: object, key: str, seen: list[int] | None = None, depth: int = 0) -> None:
    """JSON data only, and of sane size: YAML also yields dates, sets, bytes and non-string
    keys, which the schema cannot judge and ``config_hash`` / the manifest cannot write, and
    its aliases can expand a few lines into billions of values (a "billion laughs" file)."""
    seen = [0] if seen is None else seen
    seen[0] += 1
    if seen[0] > MAX_VALUES:
        raise ConfigError(f"more than {MAX_VALUES:,} values (after expanding YAML aliases)")
    if depth > MAX_DEPTH:
        raise ConfigError(f"{key}: nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ConfigError(f"{key or '(top level)'}: key {k!r} must be a string")
            _plain(v, f"{key}.{k}" if key else k, seen, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _plain(v, f"{key}.{i}", seen, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}: {value!r} is not a finite number")
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise ConfigError(
            f"{key}: {type(value).__name__} values are not allowed "
            "(only strings, numbers, booleans, null, lists and mappings)"
        )


def _strict_int(checker, instance) -> bool:
    """JSON Schema counts ``1.0`` as an integer; a pipeline's counts must be written as ones."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_int),
)


def _unknown_key(error: jsonschema.ValidationError) -> tuple[str, str] | None:
    """(key, message) for an ``additionalProperties`` error: the first unknown key and the
    closest known one."""
    known = sorted(error.schema.get("properties", {}))
    extra = [k for k in error.instance if k not in known]
    if not extra:
        return None
    key = extra[0]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
    return key, f"unknown key; {hint}"


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(dotted key, one-line reason) of a schema error."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        found = _unknown_key(error)
        if found:
            path.append(found[0])
            return ".".join(path), found[1]
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return ".".join(path) or "(top level)", f"must be {wanted}, got {error.instance!r}"
    if error.validator == "maximum":
        limit = error.validator_value
        return ".".join(path), f"{error.instance!r} is more than the maximum {limit:,}"
    return ".".join(path) or "(top level)", error.message


def validate(config: dict, origin: str = "pipeline") -> None:
    """Raise one ``ConfigError`` line naming the first bad key (and the closest known key for
    a typo), then check every source's type and codec."""
    try:
        _plain(config, "")
    except ConfigError as e:
        raise ConfigError(f"{origin}: invalid pipeline: {e}") from None
    errors = sorted(
        _Validator(_schema()).iter_errors(config),
        key=lambda e: (list(map(str, e.absolute_path)), e.validator != "additionalProperties"),
    )
    if errors:
        key, reason = _describe(errors[0])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{origin}: invalid pipeline: {key}: {reason}{more}")
    _check_sources(config, origin)


def _check_sources(config: dict, origin: str) -> None:
    """Every source type is registered, and its grids fit the pipeline's codec."""
    from arcdata.sources import REGISTRY
    from arcdata.sources.codec import codec_mismatches

    for name, spec in config["sources"].items():
        kind = spec["type"]
        if kind not in REGISTRY:
            close = difflib.get_close_matches(kind, list(REGISTRY), n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(REGISTRY))}"
            )
            raise ConfigError(
                f"{origin}: invalid pipeline: sources.{name}.type: unknown type {kind!r}; {hint}"
            )
    wrong = codec_mismatches(config["codec"], config["sources"])
    if wrong:
        raise ConfigError(f"{origin}: invalid pipeline: {wrong[0]}")


def resolve(
    raw: dict,
    overrides: list[str] | None = None,
    *,
    origin: str = "pipeline",
    base_dir: Path | None = None,
) -> dict:
    """Defaults <- file <- overrides, validated; relative source paths resolved against
    ``base_dir`` (the pipeline's folder) so a pipeline runs from any working directory."""
    config = merge(DEFAULTS, raw)
    config = apply_overrides(config, overrides or [])
    validate(config, origin)
    for name, spec in config["sources"].items():
        for key in ("path", "challenges", "solutions"):
            value = spec.get(key)
            if isinstance(value, str) and base_dir is not None:
                p = Path(value).expanduser()
                spec[key] = str(p if p.is_absolute() else (base_dir / p).resolve())
        spec.setdefault("name", name)
    _resolve_identifiers(config, base_dir)
    return config


def _resolve_identifiers(config: dict, base_dir: Path | None) -> None:
    """The ``identifiers`` key in its full form, its path resolved against ``base_dir`` (None:
    the working directory). A bare path means ``{path: PATH}`` with the strict defaults."""
    spec = config.get("identifiers")
    if spec is None:
        return
    if isinstance(spec, str):
        spec = {"path": spec}
    spec = {"missing": "error", "unmapped": "error", **spec}
    p = Path(spec["path"]).expanduser()
    if not p.is_absolute():
        p = (base_dir / p) if base_dir is not None else p
    spec["path"] = str(p.resolve())
    config["identifiers"] = spec


def load_pipeline(path: str | Path, overrides: list[str] | None = None) -> dict:
    """Read a pipeline file. Overrides' relative paths are taken from the working directory."""
    path = Path(path)
    raw = load_yaml(path)
    config = resolve(raw, None, origin=str(path), base_dir=path.resolve().parent)
    if overrides:
        config = apply_overrides(config, overrides)
        validate(config, f"{path} (with --set)")
        for spec in config["sources"].values():
            for key in ("path", "challenges", "solutions"):
                value = spec.get(key)
                if isinstance(value, str):
                    spec[key] = str(Path(value).expanduser().resolve())
        _resolve_identifiers(config, None)
    return config


def config_hash(config: dict) -> str:
    """sha256 of the canonical JSON of a resolved config: the dataset's recipe fingerprint."""
    blob = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    return bytes_sha256(blob)


def mapped_versions(config: dict) -> bool:
    """True when an identifier map names every version (``identifiers`` with ids other than
    ``task``, whose versions the planner still draws)."""
    return bool(config.get("identifiers")) and config["ids"] != "task"
