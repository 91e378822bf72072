"""player.recommend"""
