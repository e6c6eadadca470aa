# The project's C++ kernels, one addon: qscope_native.node.
# Exception mode: C++ exceptions are enabled (NAPI_CPP_EXCEPTIONS), so a
# Napi::Error thrown in a kernel's binding becomes a JS exception, never an abort.
# -ffp-contract=off: no fused multiply-add, so float results (seeded masks)
# are identical on every compiler and CPU.
{
  "targets": [
    {
      "target_name": "qscope_native",
      "sources": [
        "native/addon.cc",
        "native/masks.cc",
        "native/fft.cc",
        "native/svd.cc",
        "native/svt.cc",
        "native/sampling.cc",
        "native/mrfm.cc",
        "native/spins.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-ffp-contract=off"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
    }
  ]
}
