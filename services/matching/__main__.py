from services.matching.app import main

if __name__ == "__main__":  # a spawned batch worker imports this module too
    main()
