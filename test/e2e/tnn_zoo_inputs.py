"""The inputs shared by make_tnn_runtime_fixtures.py (run by hand with TNN's runtime) and tnn_zoo_vs_tnn_runtime.py
(the ctest): whole face photos of shared/data/faces/val, resized to the model input with OpenCV's bilinear resize,
RGB, (x - mean) * scale per channel, as float32 NCHW .npy files."""
import os

from model_outputs import read_outputs  # noqa: F401 (used by the scripts that import this module)

# model -> (tnnproto path under shared/models/zoo, input H, W, mean, scale)
MODELS = {
    'blazeface': ('tnn_blazeface/blazeface', 128, 128, (127.5,) * 3, (0.00784314,) * 3),
    'face_mesh': ('tnn_face_mesh/face_mesh', 192, 192, (127.5,) * 3, (0.00784314,) * 3),
    'hair_segmentation': ('tnn_hair_segmentation/segmentation', 256, 256, (123.675, 116.28, 103.53),
                          (0.0171248, 0.017507, 0.0174292)),
    'ultraface_slim320': ('tnn_ultraface_slim320/version-slim-320_simplified', 240, 320, (127.0,) * 3,
                          (0.0078125,) * 3),
}
IMAGES = 2


def face_images(shared):
    folder = os.path.join(shared, 'data', 'faces', 'val')
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(('.jpg', '.jpeg', '.png', '.bmp')))
    return [os.path.join(folder, n) for n in names[:IMAGES]]


def write_input(cv2, np, image, h, w, mean, scale, path):
    img = cv2.imread(image, cv2.IMREAD_COLOR)
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)[:, :, ::-1].astype(np.float32)
    x = (img - np.array(mean, np.float32)) * np.array(scale, np.float32)
    np.save(path, np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


def sample_stride(n):
    return max(1, (n + 1999) // 2000)
