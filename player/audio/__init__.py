"""player.audio"""
