print("lvx")
