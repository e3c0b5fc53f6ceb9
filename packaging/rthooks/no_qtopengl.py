"""Runtime hook of the packaged build (affecttrace.spec): PySide6.QtOpenGL stands in for Qt's OpenGL
classes, whose 9 MB binding the build leaves out.

pyqtgraph imports PySide6.QtOpenGL when it loads but uses it only to draw with OpenGL, which the app
never turns on (QOpenGLWidget itself lives in PySide6.QtOpenGLWidgets, which stays). Using any name
of this module raises ImportError saying so.
"""
import sys
import types


class _LeftOut(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(f"PySide6.QtOpenGL.{name}: Qt's OpenGL classes are not in this build of AffectTrace")


sys.modules.setdefault("PySide6.QtOpenGL", _LeftOut("PySide6.QtOpenGL"))
