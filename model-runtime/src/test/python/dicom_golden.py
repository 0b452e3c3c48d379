#!/usr/bin/python3
"""Golden pixel values for DicomReaderTest, from pydicom's own decoding of its own test files.

Run once (needs Debian's python3-pydicom and python3-numpy: apt-get install python3-pydicom python3-numpy):
    /usr/bin/python3 model-runtime/src/test/python/dicom_golden.py
It copies the DICOM files below from pydicom's test data into src/test/resources/dicom/ and writes
pydicom-golden.json there: per file its transfer syntax, frame count and, where pydicom decodes it, the
shape and the stored values at a few pixels of the middle frame (index n // 2, i.e. frame number n//2 + 1).
pydicom's pixel_array is what the test compares with: stored values, signed where Pixel Representation is 1,
YBR left as YBR for native and RLE data, JPEG colour already converted to RGB by the codec.
"""
import json
import os
import shutil
import sys
import warnings

import pydicom

SOURCE = "/usr/lib/python3/dist-packages/pydicom/data/test_files"
HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "..", "resources", "dicom")
FILES = [
    # native
    "CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_padded.dcm",
    "ExplVR_BigEnd.dcm", "SC_rgb_small_odd.dcm", "SC_ybr_full_422_uncompressed.dcm", "liver_1frame.dcm",
    "rtdose.dcm", "rtdose_expb.dcm", "MR_truncated.dcm",
    # deflated
    "image_dfl.dcm",
    # RLE
    "MR_small_RLE.dcm", "SC_rgb_rle.dcm", "SC_rgb_rle_16bit.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_rle_32bit_2frame.dcm",
    "rtdose_rle.dcm",
    # JPEG baseline, extended, lossless
    "SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_dcmtk_+eb+cr.dcm", "SC_rgb_dcmtk_+eb+cy+np.dcm", "SC_jpeg_no_color_transform.dcm",
    "SC_rgb_small_odd_jpeg.dcm", "SC_rgb_jpeg.dcm", "JPEG-lossy.dcm", "JPGExtended.dcm", "SC_rgb_jpeg_gdcm.dcm",
    # JPEG-LS
    "MR_small_jpeg_ls_lossless.dcm",
    # JPEG 2000
    "MR_small_jp2klossless.dcm", "JPEG2000.dcm", "693_J2KI.dcm", "SC_rgb_gdcm_KY.dcm", "GDCMJ2K_TextGBR.dcm",
]


def points(rows, cols):
    return [(0, 0), (rows // 2, cols // 2), (rows - 1, cols - 1), (rows // 3, 2 * cols // 3), (2 * rows // 3, cols // 4)]


def main():
    if not os.path.isdir(SOURCE):
        sys.exit("pydicom's test files are missing: apt-get install python3-pydicom")
    os.makedirs(TARGET, exist_ok=True)
    golden = {"pydicom": pydicom.__version__, "files": {}}
    for name in FILES:
        shutil.copyfile(os.path.join(SOURCE, name), os.path.join(TARGET, name))
        ds = pydicom.dcmread(os.path.join(SOURCE, name))
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        entry = {"transferSyntax": str(ds.file_meta.TransferSyntaxUID), "frames": frames,
                 "photometric": str(ds.get("PhotometricInterpretation", ""))}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = ds.pixel_array
            frame = a[frames // 2] if frames > 1 else a
            rows, cols = frame.shape[0], frame.shape[1]
            entry["rows"], entry["columns"] = rows, cols
            entry["pixels"] = [{"row": r, "column": c, "samples": [int(v) for v in (frame[r, c].ravel())]}
                               for r, c in points(rows, cols)]
            if frames > 1:  # the first frame too, to tell the frames apart
                entry["firstFramePixels"] = [{"row": r, "column": c, "samples": [int(v) for v in (a[0][r, c].ravel())]}
                                             for r, c in points(rows, cols)]
        except Exception as e:  # what pydicom cannot decode here is recorded, not skipped
            entry["pydicomError"] = type(e).__name__
        golden["files"][name] = entry
    with open(os.path.join(TARGET, "pydicom-golden.json"), "w") as out:
        json.dump(golden, out, indent=1, sort_keys=True)
        out.write("\n")
    print(len(FILES), "files,", sum("pixels" in e for e in golden["files"].values()), "with pydicom's values")


if __name__ == "__main__":
    main()
