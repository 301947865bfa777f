# Debian's per-module OpenCV -dev packages ship headers and libraries but no OpenCVConfig.cmake (that comes
# only with the large libopencv-dev), so the three modules we use are located directly.
find_path(QT_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
set(QT_OPENCV_TARGETS)
foreach(module core imgproc imgcodecs)
  find_library(QT_OPENCV_${module}_LIBRARY opencv_${module})
  if(QT_OPENCV_INCLUDE_DIR AND QT_OPENCV_${module}_LIBRARY AND NOT TARGET opencv::${module})
    add_library(opencv::${module} UNKNOWN IMPORTED)
    set_target_properties(opencv::${module} PROPERTIES
      IMPORTED_LOCATION "${QT_OPENCV_${module}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${QT_OPENCV_INCLUDE_DIR}")
  endif()
endforeach()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(QtOpenCV REQUIRED_VARS QT_OPENCV_INCLUDE_DIR
  QT_OPENCV_core_LIBRARY QT_OPENCV_imgproc_LIBRARY QT_OPENCV_imgcodecs_LIBRARY)
