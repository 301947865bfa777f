"""What the end-to-end checks that need ../shared and OpenCV share: their two arguments and the skip (exit 77,
ctest's skip code) with a message when python3-opencv or a shared folder is absent."""
import argparse
import os


def bin_and_shared_args():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--shared', required=True)
    return ap.parse_args()


def opencv_and_folder(folder):
    """(cv2, numpy), or None after printing why the check skips: OpenCV missing or `folder` absent."""
    try:
        import cv2
        import numpy as np
    except ImportError:
        print('SKIP: python3-opencv / numpy are not installed')
        return None
    if not os.path.isdir(folder):
        print(f'SKIP: {folder} is absent (the shared folder is needed)')
        return None
    return cv2, np
