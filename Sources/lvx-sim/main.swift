print("lvx-sim")
