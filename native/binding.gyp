{
  "targets": [
    {
      "target_name": "iou_native",
      "sources": [
        "src/addon.cc",
        "src/ring.c",
        "src/probe.c",
        "src/standins.c",
        "src/threads.c",
        "src/seccomp.c"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=c++17"],
      "libraries": ["-lpthread"]
    },
    {
      "target_name": "iou-standins",
      "type": "executable",
      "sources": ["src/standalone.c", "src/ring.c", "src/probe.c", "src/standins.c", "src/threads.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_c": ["-std=gnu11"],
      "libraries": ["-lpthread"]
    }
  ]
}
