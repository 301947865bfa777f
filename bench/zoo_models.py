"""The models of ../shared the bench scripts run (the zoo's README gives provenance and preprocessing), and the
inputs they are fed: images of a calibration and a validation folder, or for det4 (a 15-channel input) .npy tensors
made from five 24x24 crops of each face photo."""
import os
import tempfile

import ultraface_ssd

FACE = ['-n', '127.5,127.5,127.5', '-s', '0.00784314,0.00784314,0.00784314']
UF = ['-n', '127,127,127', '-s', '0.0078125,0.0078125,0.0078125']
MTCNN = ['-n', '127.5,127.5,127.5', '-s', '0.0078125,0.0078125,0.0078125']
Z = 'models/zoo/'

# name -> proto, model (None: single-file ONNX), data folder, preprocessing flags, kind
MODELS = {
    'squeezenet_v1.1': dict(proto='models/squeezenet_v1.1/squeezenet_v1.1.tnnproto',
                            model='models/squeezenet_v1.1/squeezenet_v1.1.tnnmodel', data='imagenet',
                            pre=['-r', '1', '-n', '104,117,123'], kind='classifier'),
    'lenet': dict(proto='models/lenet/lenet.tnnproto', model='models/lenet/lenet.tnnmodel', data='mnist',
                  pre=['-s', '0.00390625'], kind='classifier'),
    'mobilenet_v2': dict(proto=Z + 'mobilenet_v2_tf2/tf2_mobilenet_v2_1.0_224_ptq.dequant.opset13.onnx', model=None,
                         data='imagenet', pre=FACE, kind='classifier',
                         labels=Z + 'mobilenet_v2_tf2/imagenet_val_labels_1001.txt'),
    'blazeface_tnn': dict(proto=Z + 'tnn_blazeface/blazeface.tnnproto', model=Z + 'tnn_blazeface/blazeface.tnnmodel',
                          data='faces', pre=FACE, kind='detector'),
    'face_mesh_tnn': dict(proto=Z + 'tnn_face_mesh/face_mesh.tnnproto', model=Z + 'tnn_face_mesh/face_mesh.tnnmodel',
                          data='faces', pre=FACE, kind='landmarks'),
    'hair_segmentation_tnn': dict(proto=Z + 'tnn_hair_segmentation/segmentation.tnnproto',
                                  model=Z + 'tnn_hair_segmentation/segmentation.tnnmodel', data='faces',
                                  pre=['-n', '123.675,116.28,103.53', '-s', '0.0171248,0.017507,0.0174292'],
                                  kind='segmentation'),
    'ultraface_slim320_tnn': dict(proto=Z + 'tnn_ultraface_slim320/version-slim-320_simplified.tnnproto',
                                  model=Z + 'tnn_ultraface_slim320/version-slim-320_simplified.tnnmodel',
                                  data='faces', pre=UF, kind='detector'),
    'ultraface_rfb320_caffe': dict(proto=Z + 'ultraface_caffe/RFB-320.prototxt',
                                   model=Z + 'ultraface_caffe/RFB-320.caffemodel', data='faces', pre=UF,
                                   kind='detector'),
    'ultraface_slim320_caffe': dict(proto=Z + 'ultraface_caffe/slim-320.prototxt',
                                    model=Z + 'ultraface_caffe/slim-320.caffemodel', data='faces', pre=UF,
                                    kind='detector'),
    'ultraface_rfb320_onnx': dict(proto=Z + 'ultraface_onnx/version-RFB-320.onnx', model=None, data='faces', pre=UF,
                                  kind='detector'),
    'ultraface_slim320_onnx': dict(proto=Z + 'ultraface_onnx/version-slim-320.onnx', model=None, data='faces',
                                   pre=UF, kind='detector'),
    'mtcnn_det1': dict(proto=Z + 'mtcnn_caffe/det1.prototxt', model=Z + 'mtcnn_caffe/det1.caffemodel', data='faces',
                       pre=MTCNN, kind='detector'),
    'mtcnn_det2': dict(proto=Z + 'mtcnn_caffe/det2.prototxt', model=Z + 'mtcnn_caffe/det2.caffemodel', data='faces',
                       pre=MTCNN, kind='detector'),
    'mtcnn_det3': dict(proto=Z + 'mtcnn_caffe/det3.prototxt', model=Z + 'mtcnn_caffe/det3.caffemodel', data='faces',
                       pre=MTCNN, kind='detector'),
    'mtcnn_det4': dict(proto=Z + 'mtcnn_caffe/det4.prototxt', model=Z + 'mtcnn_caffe/det4.caffemodel',
                       data='faces_det4', pre=[], kind='landmarks'),
    # UltraFace RFB-320 and slim-320 with their post-processing as Caffe SSD layers (PriorBox, DetectionOutput):
    # bench/ultraface_ssd.py.
    'ultraface_rfb320_ssd': dict(proto=None, derive='RFB-320', model=Z + 'ultraface_caffe/RFB-320.caffemodel',
                                 data='faces', pre=UF, kind='ssd'),
    'ultraface_slim320_ssd': dict(proto=None, derive='slim-320', model=Z + 'ultraface_caffe/slim-320.caffemodel',
                                  data='faces', pre=UF, kind='ssd'),
    'hyperlpr_finemapping': dict(proto=Z + 'hyperlpr_finemapping_caffe/HorizonalFinemapping.prototxt',
                                 model=Z + 'hyperlpr_finemapping_caffe/HorizonalFinemapping.caffemodel',
                                 data='plates', pre=['-r', '1', '-s', '0.00392157,0.00392157,0.00392157'],
                                 kind='regression'),
}

FOLDERS = {'imagenet': ('data/imagenet_calib', 'data/imagenet_val'), 'mnist': ('data/mnist/calib', 'data/mnist/val'),
           'faces': ('data/faces/calib', 'data/faces/val'), 'plates': ('data/plates/calib', 'data/plates/val'),
           'faces_det4': ('data/faces/calib', 'data/faces/val')}
IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp')


def model_args(shared, m):
    if m.get('derive'):
        args = ['-p', ultraface_ssd.ensure(shared, os.path.join(tempfile.gettempdir(), 'qt_zoo_derived'), m['derive'])]
    else:
        args = ['-p', os.path.join(shared, m['proto'])]
    if m['model']:
        args += ['-m', os.path.join(shared, m['model'])]
    return args


def images(folder, count):
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXT))
    if count and len(names) > count:
        step = len(names) / count
        names = [names[int(i * step)] for i in range(count)]
    return [os.path.join(folder, n) for n in names]


def det4_tensors(src_images, out_dir):
    """det4's input: five 24x24 patches (RGB, MTCNN's (x - 127.5) / 128) stacked into 1x15x24x24 .npy files."""
    import cv2
    import numpy as np
    os.makedirs(out_dir, exist_ok=True)
    for k, path in enumerate(src_images):
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        s = max(8, min(h, w) // 4)
        patches = []
        for cy, cx in [(0.35, 0.35), (0.35, 0.65), (0.5, 0.5), (0.7, 0.35), (0.7, 0.65)]:
            y, x = int(cy * h - s / 2), int(cx * w - s / 2)
            p = cv2.resize(img[max(0, y):y + s, max(0, x):x + s], (24, 24), interpolation=cv2.INTER_LINEAR)
            patches.append((p[:, :, ::-1].astype(np.float32) - 127.5) * 0.0078125)
        x = np.concatenate([p.transpose(2, 0, 1) for p in patches])[None]
        np.save(os.path.join(out_dir, f'{k:04d}.npy'), np.ascontiguousarray(x))


def data_folder(shared, m, which, count, tmp):
    """A folder of at most `count` inputs of the model's calibration (which=0) or validation (1) set."""
    src = os.path.join(os.path.abspath(shared), FOLDERS[m['data']][which])  # symlinks need absolute targets
    out = os.path.join(tmp, f"{m['data']}_{which}_{count}")
    if os.path.isdir(out):
        return out
    picked = images(src, count)
    if m['data'] == 'faces_det4':
        det4_tensors(picked, out)
        return out
    os.makedirs(out)
    for p in picked:
        os.symlink(p, os.path.join(out, os.path.basename(p)))
    labels = os.path.join(src, 'labels.txt')
    if os.path.exists(labels):
        os.symlink(labels, os.path.join(out, 'labels.txt'))
    return out
