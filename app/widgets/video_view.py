"""The frame on screen, scaled to fit, with the face box and landmarks drawn over it when known."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QRegion
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import resources


class VideoView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._array: np.ndarray | None = None  # keeps the pixels alive under the QImage
        self.index = -1
        self.source_size: tuple[int, int] | None = None
        self.box: np.ndarray | None = None  # (4,) xyxy in frame pixels
        self.landmarks: np.ndarray | None = None  # (68, 2)
        self.show_overlay = True
        self.message = "No video"
        self.caption = ""
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setFocusPolicy(Qt.ClickFocus)  # a click on the picture gives the keys back to playback
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.resized = None  # callback after the size settles
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(150)
        self._resize_timer.timeout.connect(lambda: self.resized and self.resized())

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        if self.resized is not None:
            self._resize_timer.start()

    def set_frame(self, index: int, rgb: np.ndarray, box=None, landmarks=None,
                  source_size: tuple[int, int] | None = None) -> None:
        """Show a frame; ``source_size`` (w, h) is the video's size when ``rgb`` was scaled for display
        (the overlay is in video pixels)."""
        a = np.ascontiguousarray(rgb)
        h, w = a.shape[:2]
        self.source_size = source_size or (w, h)
        self._array = a
        fmt = QImage.Format_RGB32 if a.shape[2] == 4 else QImage.Format_RGB888  # 4 channels: BGRX from the player
        self._image = QImage(a.data, w, h, a.strides[0], fmt)
        self.index = index
        self.box = None if box is None else np.asarray(box, dtype=np.float32)
        self.landmarks = None if landmarks is None else np.asarray(landmarks, dtype=np.float32)
        self.update()

    def clear(self, message: str = "No video") -> None:
        self._image = self._array = None
        self.message = message
        self.update()

    def frame_size(self) -> tuple[int, int] | None:
        """The video's frame size (w, h), whatever size it is drawn at."""
        return None if self._image is None else self.source_size

    def display_size(self) -> tuple[int, int]:
        """Device pixels available for the picture: frames larger than this are scaled before drawing."""
        r = self.devicePixelRatioF()
        return max(1, int(self.width() * r)), max(1, int(self.height() * r))

    def _target(self) -> QRectF:
        iw, ih = self.source_size or (self._image.width(), self._image.height())
        s = min(self.width() / iw, self.height() / ih)
        w, h = round(iw * s), round(ih * s)
        return QRectF((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        c = resources.label_colours()
        if self._image is None:
            p.fillRect(self.rect(), QColor(c.video_bg))
            p.setPen(QColor(c.video_text))
            p.drawText(self.rect(), Qt.AlignCenter, self.message)
            p.end()
            return
        r = self._target()
        outside = QRegion(self.rect()).subtracted(QRegion(r.toAlignedRect()))
        for bar in outside:  # the letterbox only: the picture covers the rest
            p.fillRect(bar, QColor(c.video_bg))
        iw, ih = self._image.width(), self._image.height()
        if abs(r.width() - iw) < 1.5 and abs(r.height() - ih) < 1.5:
            p.drawImage(r.topLeft(), self._image)  # already at display size: a plain blit
        else:
            p.setRenderHint(QPainter.SmoothPixmapTransform, True)
            p.drawImage(r, self._image)
        if self.show_overlay:
            self._draw_overlay(p, r)
        if self.caption:
            f = QFont(self.font())
            f.setBold(True)
            p.setFont(f)
            p.setPen(QColor(0, 0, 0, 160))
            p.drawText(r.adjusted(9, 7, -7, -7), Qt.AlignTop | Qt.AlignLeft, self.caption)
            p.setPen(QColor("#ffffff"))
            p.drawText(r.adjusted(8, 6, -8, -8), Qt.AlignTop | Qt.AlignLeft, self.caption)
        p.end()

    def _draw_overlay(self, p: QPainter, r: QRectF) -> None:
        if self.box is None and self.landmarks is None:
            return
        c = resources.label_colours()
        sx = r.width() / self.source_size[0]
        sy = r.height() / self.source_size[1]
        p.setRenderHint(QPainter.Antialiasing)
        if self.box is not None and np.isfinite(self.box).all():
            x0, y0, x1, y1 = (float(v) for v in self.box)
            p.setPen(QPen(QColor(c.face_box), 2))
            p.setBrush(Qt.NoBrush)
            p.drawRect(QRectF(r.left() + x0 * sx, r.top() + y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy))
        if self.landmarks is not None:
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(c.landmarks))
            rad = max(1.2, min(3.0, r.width() / 400))
            for x, y in self.landmarks:
                if np.isfinite(x) and np.isfinite(y):
                    p.drawEllipse(QPointF(r.left() + x * sx, r.top() + y * sy), rad, rad)
