"""Render a custody report as an unsigned PDF/A-3b document with custody.json attached."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vault.hashing.merkle import LEAF_SIZE
from vault.reports import _format as fmt
from vault.reports._document import Cell, ReportPDF
from vault.reports.data import ReportData
from vault.reports.fonts import covered_code_points

ATTACHMENT_NAME = "custody.json"

# Labels of the keys of `ReportSigner.describe()`.
_SIGNER_LABELS = {
    "signer": "Signed by",
    "signer_certificate": "Signer certificate (SHA-256 of DER)",
    "issuer": "Issued by",
    "trusted_ca_certificate": "CA to trust (SHA-256 of DER)",
    "valid_until": "Certificate valid until",
}

# Column widths of the custody timeline, in millimetres (180 in all).
_TIMELINE_WIDTHS = (9, 29, 22, 30, 47, 43)


def render_report(data: ReportData) -> bytes:
    """Render the report and return the PDF bytes, unsigned.

    The document is PDF/A-3b (fpdf2 writes the output intent and the XMP
    identification, and embeds every font) and carries `data.custody_json`
    as the associated file `custody.json` with relationship Data.

    Raises InvalidInput when a digest lacks its algorithm or a datetime has
    no time zone.
    """
    generated_at = fmt.utc_time(data.generated_at)
    case_reference = data.case.get("reference") or fmt.NOT_RECORDED
    item_id = data.item.get("id") or fmt.NOT_RECORDED

    pdf = ReportPDF(f"Chain-of-custody report · case {case_reference} · item {item_id}", generated_at)
    pdf.set_title(f"Chain-of-custody report: item {item_id}")
    pdf.set_subject(f"Case {case_reference}: {data.case.get('title') or fmt.NOT_RECORDED}")
    pdf.set_author(data.generated_by)
    pdf.set_creator("Evidence Vault")
    pdf.set_lang("en")
    pdf.set_creation_date(data.generated_at)
    pdf.add_page()

    _write_title(pdf, data, generated_at)
    _write_case(pdf, data.case)
    _write_item(pdf, data.item)
    _write_hashes(pdf, data.item)
    _write_checks(pdf, data.item)
    _write_files(pdf, data.item, data.files)
    _write_timeline(pdf, data.timeline)
    _write_checkpoint(pdf, data.checkpoint)
    _write_verification(pdf, data)

    pdf.embed_file(
        bytes=data.custody_json,
        basename=ATTACHMENT_NAME,
        desc="Machine-readable custody record: ledger entries as stored, inclusion proofs and checkpoint",
        mime_type="application/json",
        modification_date=data.generated_at,
        associated_file_relationship="Data",
    )
    return bytes(pdf.output())


def _first(values: Mapping[str, Any], *keys: str) -> Any:
    """Return the value of the first key present, so both spellings of a key are read."""
    for key in keys:
        if values.get(key) is not None:
            return values[key]
    return None


def _is_empty(item: Mapping[str, Any]) -> bool:
    return bool(item.get("empty")) or item.get("size") == 0


def _is_physical(item: Mapping[str, Any]) -> bool:
    return item.get("kind") == "physical"


def _write_title(pdf: ReportPDF, data: ReportData, generated_at: str) -> None:
    item = data.item
    pdf.title_block(
        "Chain-of-custody report",
        [
            f"Evidence item {item.get('id') or fmt.NOT_RECORDED}: {item.get('description') or '(no description)'}",
            f"Case {data.case.get('reference') or fmt.NOT_RECORDED}: {data.case.get('title') or fmt.NOT_RECORDED}",
            f"Generated {generated_at} by {data.generated_by}",
        ],
    )
    if _is_empty(item):
        pdf.alert("EMPTY FILE (0 bytes): this evidence item contains no data.")
    warnings = item.get("warnings") or []
    if warnings:
        pdf.alert(f"{len(warnings)} warning(s) recorded for this item. See section 4.")


def _write_case(pdf: ReportPDF, case: Mapping[str, Any]) -> None:
    pdf.section("1. Case")
    pdf.key_values([
        ("Reference", Cell(fmt.plain(case.get("reference")))),
        ("Title", Cell(fmt.plain(case.get("title")))),
        ("Classification", Cell(fmt.plain(case.get("classification")))),
        ("Jurisdiction", Cell(fmt.plain(case.get("jurisdiction")))),
        ("Status", Cell(fmt.plain(case.get("status")))),
    ])


def _write_item(pdf: ReportPDF, item: Mapping[str, Any]) -> None:
    pdf.section("2. Evidence item")
    if _is_physical(item):
        _write_physical_item(pdf, item)
        return
    size_text = fmt.byte_size(item.get("size"))
    if _is_empty(item):
        size_text += " (EMPTY FILE)"
    pdf.key_values([
        ("Item id", Cell(fmt.plain(item.get("id")), mono=True)),
        ("Description", Cell(fmt.plain(item.get("description")))),
        ("Status", Cell(fmt.plain(item.get("status")))),
        ("Kind of file set", Cell(fmt.plain(item.get("set_kind")))),
        ("Total size", Cell(size_text)),
        ("Retention mode", Cell(fmt.plain(item.get("retention_mode")))),
        ("Retained until", Cell(fmt.utc_time(item.get("retain_until")))),
        ("Legal hold", Cell(fmt.yes_no(item.get("legal_hold")))),
    ])


def _write_physical_item(pdf: ReportPDF, item: Mapping[str, Any]) -> None:
    details = item.get("physical_details") or {}
    identifiers = details.get("identifiers") or {}
    registration = item.get("registration_entry")
    moves = item.get("moves") or 0
    rows = [
        ("Item id", Cell(fmt.plain(item.get("id")), mono=True)),
        ("Kind", Cell("physical item: the vault holds its custody record, no stored bytes")),
        ("Description", Cell(fmt.plain(item.get("description")))),
        ("Status", Cell(fmt.plain(item.get("status")))),
        ("Storage location", Cell(fmt.plain(details.get("location")))),
        ("Seal", Cell(details.get("seal") or "none recorded")),
    ]
    rows.extend((f"Identifier: {key}", Cell(fmt.plain(value))) for key, value in identifiers.items())
    if registration is not None:
        rows.append(("Registered", Cell(f"ledger entry #{registration}; {moves} move(s) recorded since, see section 6")))
    rows.extend([
        ("Kept until", Cell(fmt.utc_time(item.get("retain_until")) + " (disposal is refused before then)")),
        ("Legal hold", Cell(fmt.yes_no(item.get("legal_hold")))),
    ])
    pdf.key_values(rows)
    for problem in item.get("record_problems") or []:
        pdf.alert(f"The database disagrees with the ledger: {fmt.plain(problem)}")


def _server_digests(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for algorithm in ("sha256", "sha1", "md5"):
        if item.get(algorithm):
            pairs.append((f"{algorithm.upper()} of the stored bytes", fmt.digest_text(item[algorithm], algorithm)))
    return pairs


def _comparison(declared: str, computed: list[str]) -> str:
    """Compare one declared digest with the server's digests of the same algorithm."""
    algorithm = declared.partition(":")[0]
    same_algorithm = [digest for digest in computed if digest.partition(":")[0] == algorithm]
    if not same_algorithm:
        return f"not compared: the vault computed no {algorithm.upper()} for this item"
    if declared in same_algorithm:
        return "matches the value the vault computed"
    return "DIFFERS from the value the vault computed"


def _write_hashes(pdf: ReportPDF, item: Mapping[str, Any]) -> None:
    pdf.section("3. Hashes")
    if _is_physical(item):
        pdf.paragraph("A physical item has no stored bytes, so the vault computed no hashes of it. "
                      "An image taken from it is stored as a separate item with its own report.")
        return
    pdf.paragraph(
        "The vault computes its own hashes while it stores the bytes. Hashes declared at acquisition "
        "(by the imaging tool or the analyst) are compared with them, never used in their place."
    )

    server = _server_digests(item)
    media = fmt.labelled_digests(_first(item, "media", "media_hashes"))
    computed = [digest for _, digest in server + media]

    pdf.subsection("Computed by the vault")
    rows = [(label, Cell(digest, mono=True)) for label, digest in server]
    leaf_size = item.get("leaf_size") or LEAF_SIZE
    merkle_label = f"Merkle root ({fmt.byte_size(leaf_size)} leaves)"
    if item.get("merkle_root"):
        rows.append((merkle_label, Cell(fmt.digest_text(item["merkle_root"], "sha256"), mono=True)))
    else:
        rows.append((merkle_label, Cell("one per file, see section 5")))
    rows.extend((f"Media: {label}", Cell(digest, mono=True)) for label, digest in media)
    pdf.key_values(rows or [("Hashes", Cell(fmt.NOT_RECORDED))])

    pdf.subsection("Declared at acquisition")
    declared = fmt.labelled_digests(_first(item, "declared", "declared_hashes"))
    if not declared:
        pdf.paragraph("No acquisition hash was declared for this item.")
        return
    pdf.grid(
        ["Declared as", "Digest", "Comparison"],
        [30, 95, 55],
        [[Cell(label), Cell(digest, mono=True), Cell(_comparison(digest, computed))] for label, digest in declared],
    )


def _write_checks(pdf: ReportPDF, item: Mapping[str, Any]) -> None:
    pdf.section("4. Container check and warnings")
    check_rows = fmt.mapping_rows(item.get("container_check"))
    if check_rows:
        pdf.key_values([(label, Cell(value)) for label, value in check_rows])
    elif _is_physical(item):
        pdf.paragraph("Container check: not applicable to a physical item.")
    else:
        pdf.paragraph("Container check: not recorded.")

    warnings = item.get("warnings") or []
    if not warnings:
        pdf.paragraph("Warnings: none recorded.")
        return
    pdf.subsection("Warnings")
    for number, warning in enumerate(warnings, start=1):
        pdf.paragraph(f"{number}. {fmt.plain(warning)}")


def _write_files(pdf: ReportPDF, item: Mapping[str, Any], files: list[dict]) -> None:
    pdf.section("5. Files and storage")
    if not files and _is_physical(item):
        pdf.paragraph("No stored files: this is a physical item. Its storage location and seal are in section 2, "
                      "and every move is in the timeline.")
        return
    pdf.paragraph(
        "Each file is stored as a write-once object version under S3 Object Lock. Object keys are made "
        "by the vault, never from file names, and the original name is kept exactly as received."
    )
    if not files:
        pdf.paragraph("No stored files are recorded for this item.")
        return

    covered = set(covered_code_points())
    for file in files:
        name = str(_first(file, "original_name", "name") or fmt.NOT_RECORDED)
        escaped = fmt.escaped_name(name, covered)
        pdf.subsection(f"File {file.get('file_no', '?')}: {escaped or name}")

        rows = [("Original name", Cell(name))]
        if escaped is not None:
            rows.append(("Name with code points", Cell(escaped, mono=True)))
        size_text = fmt.byte_size(file.get("size"))
        if file.get("size") == 0:
            size_text += " (EMPTY FILE)"
        rows.append(("Size", Cell(size_text)))
        rows.extend((label, Cell(digest, mono=True)) for label, digest in fmt.labelled_digests(file.get("digests")))
        if file.get("merkle_root"):
            rows.append(("Merkle root", Cell(fmt.digest_text(file["merkle_root"], "sha256"), mono=True)))
        rows.extend([
            ("Bucket", Cell(fmt.plain(file.get("bucket") or item.get("bucket")), mono=True)),
            ("Object key", Cell(fmt.plain(file.get("object_key") or file.get("key")), mono=True)),
            ("Version id", Cell(fmt.plain(file.get("version_id")), mono=True)),
            ("Retention mode", Cell(fmt.plain(file.get("retention_mode") or item.get("retention_mode")))),
            ("Retained until", Cell(fmt.utc_time(file.get("retain_until") or item.get("retain_until")))),
            ("Legal hold", Cell(fmt.yes_no(file.get("legal_hold", item.get("legal_hold"))))),
        ])
        pdf.key_values(rows)


def _write_timeline(pdf: ReportPDF, timeline: list[dict]) -> None:
    pdf.section("6. Custody timeline")
    if not timeline:
        pdf.paragraph("No ledger entries are recorded for this item.")
        return
    pdf.paragraph(
        f"{len(timeline)} ledger entries, oldest first. Times are UTC. Each entry hash is "
        "SHA-256 of the entry bytes as stored; the next entry records it, which chains the entries. "
        "The custody log's Merkle leaf is SHA-256(0x00 || the same bytes)."
    )
    rows = [
        [
            Cell(fmt.plain(entry.get("index"))),
            Cell(fmt.utc_time(entry.get("time"))),
            Cell(fmt.plain(entry.get("actor"))),
            Cell(fmt.plain(entry.get("action"))),
            Cell(entry.get("summary") or fmt.details_summary(entry.get("details"))),
            Cell(fmt.digest_text(entry["entry_hash"], "sha256") if entry.get("entry_hash") else fmt.NOT_RECORDED, mono=True),
        ]
        for entry in timeline
    ]
    pdf.grid(["#", "Time (UTC)", "Actor", "Action", "Summary", "Entry hash"], _TIMELINE_WIDTHS, rows)


def _write_checkpoint(pdf: ReportPDF, checkpoint: Mapping[str, Any] | None) -> None:
    pdf.section("7. Log checkpoint")
    if not checkpoint:
        pdf.paragraph("No signed checkpoint was recorded when this report was generated.")
        return
    pdf.paragraph(
        "The checkpoint is the custody log's signed statement of its size and Merkle root "
        "(C2SP tlog-checkpoint, signed note with Ed25519). Every entry above is proven against it "
        "by an inclusion proof in the attached custody.json."
    )
    pdf.key_values([
        ("Origin", Cell(fmt.plain(checkpoint.get("origin")), mono=True)),
        ("Tree size", Cell(fmt.plain(checkpoint.get("size")))),
        ("Root", Cell(fmt.checkpoint_root(checkpoint.get("root")), mono=True)),
    ])
    if checkpoint.get("note"):
        pdf.subsection("Signed note")
        pdf.paragraph(str(checkpoint["note"]).rstrip("\n"), mono=True)


def _write_verification(pdf: ReportPDF, data: ReportData) -> None:
    pdf.section("8. Signature and how to verify this report")
    signer = data.signer or {}
    if signer:
        pdf.key_values([
            (_SIGNER_LABELS.get(key, fmt.humanize(key)), Cell(fmt.plain(value), mono=True)) for key, value in signer.items()
        ])
    else:
        pdf.paragraph("The signing key is named in the signature properties shown by your PDF reader.")

    steps = [
        "1. The signature. Open this file in a PDF reader that validates PAdES signatures (for example "
        "Adobe Acrobat, or poppler's pdfsig). The signature must be reported valid, the signer's "
        "certificate must chain to the vault's report certificate authority (trust its certificate "
        "explicitly; compare its SHA-256 fingerprint above), and the reader must report no changes "
        "after signing.",
        "2. The attachment. custody.json is attached to this PDF as an associated file (PDF/A-3, "
        "relationship Data) and is covered by the signature. Extract it with the reader's attachment "
        "panel or with the command \"pdfdetach -save 1 report.pdf\". It contains each ledger entry exactly as stored, "
        "its inclusion proof and the signed checkpoint.",
        "3. The ledger entries. For each entry, SHA-256 of the stored entry bytes must equal its entry "
        "hash above, and the next entry's prev field must carry it. The Merkle leaf is SHA-256 of the byte "
        "0x00 followed by the same bytes; the inclusion proof must lead from that leaf to the checkpoint "
        "root (RFC 9162 section 2.1.3), and the checkpoint signature must verify with the custody log's public key.",
        "4. The evidence. Download each object by bucket, key and version id. SHA-256 of its bytes must "
        "equal the value in sections 3 and 5. The Merkle root is computed over consecutive chunks of the "
        "leaf size shown, with leaf hash SHA-256(0x00 || chunk) and node hash SHA-256(0x01 || left || "
        "right), in the tree shape of RFC 9162.",
    ]
    if _is_physical(data.item):
        steps[3] = ("4. The evidence. This item is physical, so the vault stores none of its bytes. Compare the item, "
                    "its seal and its storage location with section 2, and each move with the timeline.")
    for step in steps:
        pdf.paragraph(step)
